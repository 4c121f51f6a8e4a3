"""Parity with lm-evaluation-harness: lm-eval scores our prepared multiple-choice docs with the same model and
gets the same acc and acc_norm as our scorer, item by item."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from boostqa.benchmarks.registry import BENCHMARKS
from boostqa.eval.lm_eval_tasks import TASK_PREFIX, write_lm_eval_tasks
from boostqa.eval.runner import run_hf_model
from boostqa.eval.score import benchmark_metrics, score_docs
from boostqa.eval.tasks import EvalTaskSettings, load_docs, model_requests
from boostqa.settings import PROJECT_ROOT, BoostqaSettings
from boostqa.stack.llm_server import ensure_model

pytestmark = pytest.mark.integration
LIMIT = 4  # items per benchmark (40 in all, with 5-shot MMLU/CMMLU/C-Eval prompts): quick on 2 cores


def _lm_eval_samples(out: Path, task: str) -> dict[str, dict[str, float]]:
    (path,) = out.rglob(f"samples_{task}_*.jsonl")
    samples = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {s["doc"]["item_id"]: {"acc": s["acc"], "acc_norm": s["acc_norm"]} for s in samples}


def test_lm_eval_gives_our_accuracies_on_the_same_docs(stack: BoostqaSettings, tmp_path: Path) -> None:
    model = ensure_model(stack)
    settings = EvalTaskSettings(limit=LIMIT)
    docs = {b.name: load_docs(b.name, settings) for b in BENCHMARKS if b.task_type == "multiple_choice"}
    tasks = write_lm_eval_tasks(docs, tmp_path / "tasks")
    assert len(tasks) == 10

    requests = [r for d in docs.values() for r in model_requests(d, settings.max_new_tokens)]
    (tmp_path / "req.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests))
    run_hf_model(model, tmp_path / "req.jsonl", tmp_path / "resp.jsonl")
    responses = {r["request_id"]: r for r in map(json.loads, (tmp_path / "resp.jsonl").read_text().splitlines())}

    lm_eval = subprocess.run(
        [str(PROJECT_ROOT / ".venv-train" / "bin" / "lm_eval"), "--model", "hf", "--model_args",
         f"pretrained={model},dtype=float32", "--tasks", ",".join(tasks), "--include_path", str(tmp_path / "tasks"),
         "--device", "cpu", "--batch_size", "8", "--output_path", str(tmp_path / "out"), "--log_samples"],
        cwd=tmp_path, capture_output=True, text=True, timeout=1800, check=False,
        env={"PATH": "/usr/bin:/bin", "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path),
             "TOKENIZERS_PARALLELISM": "false"})
    assert lm_eval.returncode == 0, lm_eval.stderr[-4000:]

    right = total = 0
    for benchmark, benchmark_docs in docs.items():
        ours = score_docs(benchmark_docs, responses, settings.fewshot_for(benchmark))
        theirs = _lm_eval_samples(tmp_path / "out", TASK_PREFIX + benchmark)
        assert {r["item_id"]: {"acc": float(r["correct"]), "acc_norm": float(r["correct_norm"])} for r in ours} \
            == theirs, benchmark
        right, total = right + sum(r["correct"] for r in ours), total + len(ours)
        metrics = benchmark_metrics(benchmark_docs, ours)
        assert metrics["acc"] == pytest.approx(sum(t["acc"] for t in theirs.values()) / len(theirs))
        assert metrics["acc_norm"] == pytest.approx(sum(t["acc_norm"] for t in theirs.values()) / len(theirs))
    assert 0 < right < total  # the model gets some right and some wrong: the comparison has teeth
