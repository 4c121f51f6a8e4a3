"""The evaluation runner: results land in the lake per model and benchmark, reruns reuse model work and
replace parts, a crashed model side is reported, a server target refuses log-likelihood work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boostqa.errors import ConfigError
from boostqa.eval import runner
from boostqa.eval.config import EvalRunConfig
from boostqa.eval.runner import ModelRuntime, ModelTarget, evaluate_benchmark
from boostqa.eval.tasks import EvalTaskSettings
from boostqa.lake import layout
from tests.conftest import MemoryStore, lake_rows


def _fake_model(calls: list[Path]):  # type: ignore[no-untyped-def]
    """Prefers the first choice; answers generative items with 42."""
    def answer(hf_folder: Path, requests_path: Path, responses_path: Path, runtime: ModelRuntime | None = None) -> None:
        calls.append(requests_path)
        out = []
        for line in requests_path.read_text().splitlines():
            request = json.loads(line)
            if request["kind"] == "generate":
                out.append({"request_id": request["request_id"], "text": " #### 42"})
            else:
                out.append({"request_id": request["request_id"],
                            "logprob": 0.0 if request["request_id"].endswith("#0") else -3.0})
        responses_path.write_text("".join(json.dumps(r) + "\n" for r in out))
    return answer


def test_results_are_written_per_model_and_benchmark_and_reruns_reuse_the_responses(
        tmp_path: Path, memory_store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(runner, "run_hf_model", _fake_model(calls))
    target = ModelTarget(model_id="baseline", hf_folder=str(tmp_path / "hf"))
    settings = EvalTaskSettings(limit=4)
    result = evaluate_benchmark(memory_store, target, "arc_easy", settings, tmp_path / "work", "eval_1")
    items = lake_rows(memory_store, layout.eval_part("items", "baseline", "arc_easy"))
    assert result.items == len(items) == 4 and not result.reused_responses
    assert result.metrics["acc"] == pytest.approx(sum(r["gold"] == "A" for r in items) / 4)
    scores = lake_rows(memory_store, layout.eval_part("scores", "baseline", "arc_easy"))
    assert {s["metric"] for s in scores} == {"acc", "acc_norm", "acc_stderr", "acc_norm_stderr"}
    assert {s["eval_run_id"] for s in scores} == {"eval_1"}

    again = evaluate_benchmark(memory_store, target, "arc_easy", settings, tmp_path / "work", "eval_2")
    assert again.reused_responses and len(calls) == 1
    assert len(lake_rows(memory_store, layout.eval_part("items", "baseline", "arc_easy"))) == 4  # replaced

    more = evaluate_benchmark(memory_store, target, "arc_easy", EvalTaskSettings(limit=6), tmp_path / "work", "e3")
    assert not more.reused_responses and len(calls) == 2 and more.items == 6


def test_generative_benchmarks_score_exact_match(tmp_path: Path, memory_store: MemoryStore,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "run_hf_model", _fake_model([]))
    target = ModelTarget(model_id="m", hf_folder=str(tmp_path))
    result = evaluate_benchmark(memory_store, target, "gsm8k", EvalTaskSettings(limit=3), tmp_path / "w", "r")
    items = lake_rows(memory_store, layout.eval_part("items", "m", "gsm8k"))
    assert [i["predicted"] for i in items] == ["42"] * 3
    assert result.metrics["exact_match"] == pytest.approx(sum(i["gold"] == "42" for i in items) / 3)


def test_a_missing_model_or_venv_is_a_config_error(tmp_path: Path, memory_store: MemoryStore) -> None:
    target = ModelTarget(model_id="m", hf_folder=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="not an HF model folder|is missing"):
        evaluate_benchmark(memory_store, target, "piqa", EvalTaskSettings(limit=1), tmp_path / "w", "r")
    server = ModelTarget(model_id="s", server_url="http://127.0.0.1:9/v1", served_model="x")
    with pytest.raises(ConfigError, match="log-likelihoods need an HF folder"):
        evaluate_benchmark(memory_store, server, "piqa", EvalTaskSettings(limit=1), tmp_path / "w", "r")
    assert memory_store.list_keys("eval/") == []


def test_a_failing_model_process_reports_its_output(tmp_path: Path) -> None:
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}")
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\necho 'CUDA out of memory' >&2\nexit 3\n")
    fake_python.chmod(0o755)
    requests = tmp_path / "req.jsonl"
    requests.write_text("")
    with pytest.raises(RuntimeError, match="exited 3:\nCUDA out of memory"):
        runner.run_hf_model(tmp_path / "hf", requests, tmp_path / "resp.jsonl", python=fake_python)


def test_a_model_is_loaded_once_for_all_benchmarks_and_only_missing_ones_go_to_it(
        tmp_path: Path, memory_store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(runner, "run_hf_model", _fake_model(calls))
    target = ModelTarget(model_id="m", hf_folder=str(tmp_path))
    settings = EvalTaskSettings(limit=2)
    first = runner.evaluate_model(memory_store, target, ["arc_easy", "gsm8k"], settings, tmp_path / "w", "r1")
    assert len(calls) == 1 and [r.benchmark for r in first] == ["arc_easy", "gsm8k"]
    second = runner.evaluate_model(memory_store, target, ["arc_easy", "piqa"], settings, tmp_path / "w", "r2")
    assert len(calls) == 2 and [r.reused_responses for r in second] == [True, False]
    sent = [json.loads(line)["request_id"] for line in calls[-1].read_text().splitlines()]
    assert sent and all(request_id.startswith("piqa:") for request_id in sent)
    assert {k.split("/")[3] for k in memory_store.list_keys("eval/items/")} == {
        "benchmark=arc_easy", "benchmark=gsm8k", "benchmark=piqa"}


def test_the_model_side_runs_where_the_config_says() -> None:
    """The CPU box's defaults pick the GPU when there is one (the model side decides), fp32 or bf16 by device, and a
    fixed batch; a production run can pin each, and a null batch size asks for the largest that fits."""
    assert EvalRunConfig().runtime().args() == ["--device", "auto", "--dtype", "auto", "--batch-size", "8"]
    pinned = EvalRunConfig.model_validate({"model_device": "cuda", "model_dtype": "bfloat16", "batch_size": None})
    assert pinned.runtime().args() == ["--device", "cuda", "--dtype", "bfloat16", "--batch-size", "auto"]
    with pytest.raises(ValueError, match="model_device"):
        EvalRunConfig.model_validate({"model_device": "tpu"})
