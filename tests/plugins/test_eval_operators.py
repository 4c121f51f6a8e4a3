"""benchmark_eval's operators: which models get scored, parameter checks, the per-benchmark call, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa.eval.runner import BenchmarkResult
from boostqa_airflow.operators.evaluate import EvaluateModelOperator, ResolveEvalTargetsOperator, _run_config


def _resolve(**kwargs: object) -> ResolveEvalTargetsOperator:
    return ResolveEvalTargetsOperator(task_id="resolve", stage_params={"baseline_hf_folder": "/models/base", **kwargs})


def test_a_given_folder_and_the_baseline_are_scored_on_the_chosen_benchmarks() -> None:
    targets = _resolve(model_id="m1", hf_folder="/ckpt/hf", benchmarks="mmlu, gsm8k").execute({})
    assert [(t["model"]["model_id"], t["benchmarks"]) for t in targets] == [
        ("baseline", ["mmlu", "gsm8k"]), ("m1", ["mmlu", "gsm8k"])]
    assert targets[0]["model"]["hf_folder"] == "/models/base"


def test_the_triggering_checkpoint_event_names_the_model_and_all_twelve_benchmarks_run() -> None:
    old = SimpleNamespace(extra={"run_id": "midtrain_1", "hf_folder": "/c1/hf"},
                          timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    new = SimpleNamespace(extra={"run_id": "midtrain_2", "hf_folder": "/c2/hf"},
                          timestamp=datetime(2026, 1, 2, tzinfo=UTC))
    targets = _resolve(with_baseline="False").execute({"triggering_asset_events": {"checkpoint": [old, new]}})
    assert [t["model"]["model_id"] for t in targets] == ["midtrain_2"] and len(targets[0]["benchmarks"]) == 12


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"hf_folder": "/x"}, "model_id is required"),
    ({"model_id": "m", "hf_folder": "/x", "benchmarks": "mmlu,squad"}, "unknown benchmarks"),
    ({"with_baseline": "False"}, "nothing to evaluate"),
    ({"model_id": "bad id", "hf_folder": "/x"}, "bad model"),
])
def test_bad_params_fail_without_retry(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(AirflowFailException, match=message), \
            patch("boostqa_airflow.operators.evaluate.LakeHook"), \
            patch("boostqa_airflow.operators.evaluate.read_pointer", return_value=None):
        _resolve(**kwargs).execute({})


def test_without_params_or_event_the_newest_training_run_is_scored_with_its_identity() -> None:
    pointer = {"version": "midtrain_20261125T000000Z_00000001", "hf_folder": "/c/hf", "mixture_version": "mix_1"}
    with patch("boostqa_airflow.operators.evaluate.LakeHook"), \
            patch("boostqa_airflow.operators.evaluate.read_pointer", return_value=pointer):
        (target,) = _resolve(with_baseline="False").execute({})
    assert target["model"] == {"model_id": pointer["version"], "hf_folder": "/c/hf",
                               "checkpoint_id": pointer["version"], "mixture_version": "mix_1"}


def test_evaluate_passes_typed_settings_and_refuses_bad_ones(tmp_path: Path) -> None:
    result = BenchmarkResult(model_id="m", benchmark="piqa", items=3, metrics={"acc": 1.0}, reused_responses=False)
    operator = EvaluateModelOperator(task_id="evaluate", benchmarks=["piqa"],
                                     model={"model_id": "m", "hf_folder": "/f"},
                                     stage_params={"limit": "3", "num_fewshot": '{"piqa": 2}', "max_new_tokens": "64"})
    with patch("boostqa_airflow.operators.evaluate.evaluate_model", return_value=[result]) as call, \
            patch("boostqa_airflow.operators.evaluate.LakeHook"):
        assert operator.execute({"run_id": "manual__1"})[0]["metrics"] == {"acc": 1.0}
    _, target, benchmarks, settings, _, run_id, source, runtime = call.call_args.args
    assert (target.hf_folder, benchmarks, settings.limit, settings.fewshot_for("piqa"), settings.max_new_tokens,
            run_id, str(source)) == ("/f", ["piqa"], 3, 2, 64, "manual__1", "local")
    assert (runtime.device, runtime.batch_size, runtime.server_api_key) == ("auto", 8, None)
    assert _run_config({"limit": "None"}).task_settings().limit is None
    with pytest.raises(AirflowFailException, match="bad evaluation parameters"):
        _run_config({"num_fewshot": "{not json"})
    mirrored = _run_config({"source": "mirror", "mirror": "s3://lake/mirrors/hub"}).benchmark_source()
    assert (mirrored.kind, mirrored.mirror) == ("mirror", "s3://lake/mirrors/hub")
    with pytest.raises(AirflowFailException, match="needs the mirror's folder"):
        _run_config({"source": "mirror"})


def test_server_models_send_their_generations_to_the_eval_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """server_models: the named models get the boostqa_llm_eval server (URL and served name, never its key, in the
    XCom); the evaluate task hands the key to the runner. Without the connection the run fails without retry."""
    monkeypatch.setenv("AIRFLOW_CONN_BOOSTQA_LLM_EVAL", json.dumps(
        {"conn_type": "openai", "host": "http://vllm-eval:8000/v1", "password": "sk-eval", "extra": {"model": "ckpt"}}))
    targets = _resolve(model_id="m1", hf_folder="/ckpt/hf", server_models="m1").execute({})
    served = {t["model"]["model_id"]: t["model"] for t in targets}
    assert served["m1"]["server_url"] == "http://vllm-eval:8000/v1" and served["m1"]["served_model"] == "ckpt"
    assert "server_url" not in served["baseline"] and "sk-eval" not in json.dumps(targets)
    operator = EvaluateModelOperator(task_id="evaluate", benchmarks=["gsm8k"], model=served["m1"],
                                     stage_params={"server_models": "m1"})
    with patch("boostqa_airflow.operators.evaluate.evaluate_model", return_value=[]) as call, \
            patch("boostqa_airflow.operators.evaluate.LakeHook"):
        operator.execute({"run_id": "manual__1"})
    assert call.call_args.args[-1].server_api_key.get_secret_value() == "sk-eval"
    with pytest.raises(AirflowFailException, match="server_models names models not evaluated"):
        _resolve(model_id="m1", hf_folder="/ckpt/hf", server_models="m2").execute({})
    monkeypatch.delenv("AIRFLOW_CONN_BOOSTQA_LLM_EVAL")
    with pytest.raises(AirflowFailException, match="needs the boostqa_llm_eval connection"):
        _resolve(model_id="m1", hf_folder="/ckpt/hf", server_models="m1").execute({})
