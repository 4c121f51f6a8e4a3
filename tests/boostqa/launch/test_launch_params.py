"""Launch params are data, not code: hostile values are refused, and a value that got through anyway stays inert."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from boostqa.launch.cluster import ClusterResources, render_kubernetes_manifests, render_slurm_script
from boostqa.launch.config import LaunchRunConfig
from boostqa.launch.spec import LaunchSpec
from boostqa_dev.checkout import PROJECT_ROOT

HOSTILE = ["$(touch /tmp/pwned)", "`id`", "a; rm -rf /", "x\ny", "x\n---\nkind: Pod", "a b", "-rf", "a|b", "x&&y",
           "}{: [", "x: {y: 1}", "a'b", 'a"b', "$HOME", "a\x00b"]
K8S_TEMPLATE = PROJECT_ROOT / "infra" / "k8s" / "training-job.yaml"
SLURM_TEMPLATE = PROJECT_ROOT / "infra" / "slurm" / "train.sbatch"
SPEC = LaunchSpec(run_id="midtrain_1", config="llama3_8b_h100", nodes=2, output_dir="/work/ck/midtrain_1")


@pytest.mark.parametrize("value", HOSTILE)
def test_every_param_refuses_hostile_values(value: str) -> None:
    for field in ("config", "output_dir", "mixture_version"):
        with pytest.raises(ValidationError):
            LaunchRunConfig.model_validate({field: value})
    overrides = [[f"{value}=1"]] + ([] if value == "-rf" else [[f"max_steps={value}"]])  # "k=-rf" is one word
    for update in overrides:
        with pytest.raises(ValidationError):
            LaunchRunConfig.model_validate({"overrides": update})
    for field, update in (("config", value), ("output_dir", value), ("run_id", value),
                          *(("overrides", o) for o in overrides)):
        with pytest.raises(ValidationError):
            LaunchSpec.model_validate(SPEC.model_dump() | {field: update})
    for field in ("image", "memory", "mixture_uri", "mixture_dir"):
        with pytest.raises(ValidationError):
            ClusterResources.model_validate({field: value})


def test_ordinary_values_pass() -> None:
    config = LaunchRunConfig.model_validate({"config": "configs/llama3_8b.yaml", "output_dir": "/mnt/ck/run-1",
                                             "overrides": ["optim.lr=1e-4", "data.manifest=/m/v1/manifest.json",
                                                           "eval.benchmarks=[gsm8k,mmlu]"],
                                             "mixture_version": "mixture_20261203T060000Z_ab12cd34"})
    assert config.overrides[0] == "optim.lr=1e-4"
    ClusterResources(image="registry.example.org:5000/boostqa/trainer@sha256:ab12", memory="1.5Ti")
    with pytest.raises(ValidationError):
        LaunchSpec.model_validate(SPEC.model_dump() | {"env": {"lower-case": "x"}})


def _smuggled(value: str) -> tuple[LaunchSpec, ClusterResources]:
    """Hostile values that skipped validation (``model_construct``): what the renderers alone make of them."""
    spec = LaunchSpec.model_construct(**(SPEC.model_dump() | {"overrides": [f"max_steps={value}"]}))
    return spec, ClusterResources.model_construct(**(ClusterResources().model_dump() | {"mixture_dir": value}))


@pytest.mark.parametrize("value", HOSTILE[:6])
def test_the_kubernetes_job_holds_a_hostile_value_as_one_inert_argument(value: str) -> None:
    spec, resources = _smuggled(value)
    service, job = render_kubernetes_manifests(spec, resources, template=K8S_TEMPLATE)
    pod = job["spec"]["template"]["spec"]
    (fetch,) = pod["initContainers"]
    assert fetch["command"] == ["aws", "s3", "sync", resources.mixture_uri, value, "--only-show-errors"]
    (trainer,) = pod["containers"]
    assert trainer["command"][0] == "torchrun" and trainer["args"][-3] == f"max_steps={value}"
    assert set(job) == {"apiVersion", "kind", "metadata", "spec"} and service["kind"] == "Service"


@pytest.mark.parametrize("value", HOSTILE[:6])
def test_the_slurm_script_quotes_a_hostile_value_into_one_word(value: str, tmp_path: Path) -> None:
    spec, resources = _smuggled(value)
    script = render_slurm_script(spec, resources, template=SLURM_TEMPLATE)
    # Run the whole script with stand-ins for the cluster's commands that print their arguments, one per line.
    stand_ins = "\n".join(f"{name}() {{ printf '%s\\n' \"$@\"; }}" for name in ("aws", "srun")) + \
        "\nscontrol() { echo node-0; }\n"
    done = subprocess.run(["bash", "-s"], input=stand_ins + script, cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, check=False, env={"PATH": "/usr/bin:/bin", "SLURM_JOB_NODELIST": "node-0"})
    assert done.returncode == 0, done.stderr
    words = done.stdout.split("\n")
    if "\n" in value:  # printf's one-per-line output splits a word with newlines: find it whole in the output
        words = [done.stdout]
    assert any(value in w for w in words) and any(f"max_steps={value}" in w for w in words)
    if "\n" not in value:
        assert value in words and f"max_steps={value}" in words  # each arrived as one word, exactly as given
    assert not (Path("/tmp/pwned").exists() and "pwned" in value) and list(tmp_path.iterdir()) == []
