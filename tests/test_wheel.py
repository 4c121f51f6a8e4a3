"""A wheel of the project works away from the checkout: the library finds its package data and runs a stage."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from datetime import date
from pathlib import Path

import pytest

from boostqa.ingest.config import load_sources
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import split_rows
from boostqa.settings import RESOURCES
from boostqa_dev.checkout import PROJECT_ROOT

pytestmark = pytest.mark.integration  # builds a wheel and a venv: about 20 s

# What a wheel build reads: pyproject.toml's package roots (and the readme it names).
SOURCES = ["pyproject.toml", "README.md", "boostqa", "plugins", "training", "infra/boostqa_dev"]
DAY = date(2026, 1, 1)

# Runs in the wheel's venv, from a folder outside the checkout, with no PYTHONPATH and no BOOSTQA_* settings.
CHECK = """
import hashlib, json, sys
from datetime import date
from pathlib import Path

import boostqa
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.annotate.task import AnnotationTask
from boostqa.ingest.config import load_sources
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import split_rows
from boostqa.settings import RESOURCES
from boostqa.synthesize.strategies import load_prompt
from boostqa_dev.checkout import is_checkout

root = Path(boostqa.__file__).parent
taxonomy = load_taxonomy()
valid, quarantined = [], 0
for source in load_sources(RESOURCES / "seed_sources.yaml"):
    seeds, rejected = split_rows(source, fetch_source(source), date.fromisoformat(sys.argv[1]), "r")
    valid += [seed.seed_id for seed in seeds]
    quarantined += len(rejected)
print(json.dumps({
    "package": str(root),
    "files": sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts),
    "disciplines": len(taxonomy.discipline_ids), "grade_bands": sorted(taxonomy.grade_band_of),
    "annotate_prompt": len(AnnotationTask(taxonomy).template), "refine_prompt": len(load_prompt("refine_v2")),
    "seeds": hashlib.sha256("\\n".join(sorted(valid)).encode()).hexdigest(), "valid": len(valid),
    "quarantined": quarantined, "dev_stack_sees_a_checkout": is_checkout(),
}))
"""


def _uv() -> Path:
    """The Makefile's uv (.venv-tools beside the pipeline venv), else one on PATH."""
    for root in (PROJECT_ROOT, Path(sys.prefix).parent):
        if (candidate := root / ".venv-tools" / "bin" / "uv").exists():
            return candidate
    found = shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed (make install puts it in .venv-tools)")
    return Path(found)


def _run(argv: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False, timeout=300,
                            **kwargs)  # type: ignore[call-overload]
    command = " ".join(map(str, argv))
    assert result.returncode == 0, f"{command[:160]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _checkout_files() -> list[str]:
    """The library's files git tracks, modules and data alike, relative to boostqa/."""
    tracked = _run(["git", "ls-files", "boostqa"], cwd=PROJECT_ROOT).stdout.split()
    return sorted(Path(p).relative_to("boostqa").as_posix() for p in tracked if (PROJECT_ROOT / p).is_file())


def test_a_wheel_installed_outside_the_checkout_finds_its_package_data_and_runs_ingest(tmp_path: Path) -> None:
    uv, source = _uv(), tmp_path / "source"
    for name in SOURCES:  # a copy: the build writes build/ and *.egg-info next to the sources
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, source / name)
    _run([uv, "build", "--wheel", "--quiet", "-o", tmp_path / "dist", source])
    (wheel,) = (tmp_path / "dist").glob("boostqa_warehouse-*.whl")

    # A bare venv that sees the pipeline venv's dependencies through a path entry: a .pth line adds the folder
    # without running the .pth files in it, so the checkout's editable install stays out of sight.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    (purelib / "pipeline_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([uv, "pip", "install", "--quiet", "--offline", "--no-deps", "--python", python, wheel])

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}  # no PYTHONPATH, no BOOSTQA_* settings
    (tmp_path / "elsewhere").mkdir()
    got = json.loads(_run([python, "-c", CHECK, DAY.isoformat()], cwd=tmp_path / "elsewhere", env=env).stdout)

    package = Path(got["package"])
    assert package.is_relative_to(venv) and not package.is_relative_to(PROJECT_ROOT)
    # Every file the library keeps in git (modules, prompts, templates, metric scripts, resources) is installed.
    missing = sorted(set(_checkout_files()) - set(got["files"]))
    assert missing == [], f"not in the wheel: {missing[:20]}"
    assert got["disciplines"] >= 30 and got["grade_bands"] == [1, 2, 3, 4, 5]
    assert got["annotate_prompt"] > 0 and got["refine_prompt"] > 0
    assert got["dev_stack_sees_a_checkout"] is False  # so the CLI leaves the settings to the environment

    # Ingest's validate/normalize step on the packaged sample corpus gives the seeds the checkout gives.
    valid, quarantined = [], 0
    for config in load_sources(RESOURCES / "seed_sources.yaml"):
        seeds, rejected = split_rows(config, fetch_source(config), DAY, "r")
        valid += [seed.seed_id for seed in seeds]
        quarantined += len(rejected)
    assert got["valid"] == len(valid) >= 300 and got["quarantined"] == quarantined > 0
    assert got["seeds"] == hashlib.sha256("\n".join(sorted(valid)).encode()).hexdigest()
