"""Scoring parity with lm-evaluation-harness: with the same model, lm-eval gets our acc and acc_norm on our prepared
multiple-choice docs, and its own ``gsm8k`` task (generation, regex filters, exact match) our GSM8K results, item by
item. Prompt parity is tests/integration/test_lm_eval_prompts.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from boostqa.benchmarks.loader import edition_files
from boostqa.benchmarks.registry import BENCHMARKS, get_benchmark
from boostqa.eval.lm_eval_tasks import TASK_PREFIX, write_lm_eval_tasks
from boostqa.eval.runner import run_hf_model
from boostqa.eval.score import benchmark_metrics, score_docs
from boostqa.eval.tasks import EvalTaskSettings, load_docs, model_requests
from boostqa.settings import BoostqaSettings
from boostqa_dev.checkout import PROJECT_ROOT
from boostqa_dev.stack.llm_server import ensure_model

pytestmark = pytest.mark.integration
LIMIT = 2  # items per benchmark (20 in all, with 5-shot MMLU/CMMLU/C-Eval prompts): quick on 2 cores
GSM8K_LIMIT = 4  # generations: enough that both of lm-eval's filters below get used
GSM8K_SHOTS = 1  # short prompts keep 4 generations quick on 2 cores; with one example the model sometimes
# answers without "#### N", so both of lm-eval's filters (strict-match, flexible-extract) are exercised
GSM8K_TASK = "lm_eval_gsm8k_local"
LM_EVAL = PROJECT_ROOT / ".venv-train" / "bin" / "lm_eval"
THREAD_POOLS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _samples(out: Path, task: str) -> list[dict[str, Any]]:
    (path,) = out.rglob(f"samples_{task}_*.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _lm_eval_samples(out: Path, task: str) -> dict[str, dict[str, float]]:
    return {s["doc"]["item_id"]: {"acc": s["acc"], "acc_norm": s["acc_norm"]} for s in _samples(out, task)}


def _run_lm_eval(model: Path, tasks: list[str], include: Path, out: Path, *extra: str) -> None:
    """lm-eval's command line: the HF folder in float32 on CPU, the tasks' samples logged under ``out``."""
    done = subprocess.run(
        [str(LM_EVAL), "--model", "hf", "--model_args", f"pretrained={model},dtype=float32", "--tasks",
         ",".join(tasks), "--include_path", str(include), "--device", "cpu", "--batch_size", "8", "--output_path",
         str(out), "--log_samples", *extra],
        cwd=out.parent, capture_output=True, text=True, timeout=1800, check=False,
        env={"PATH": "/usr/bin:/bin", "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HOME": str(out.parent),
             **{pool: os.environ[pool] for pool in THREAD_POOLS if pool in os.environ},  # the worker's core share
             "TOKENIZERS_PARALLELISM": "false"})
    assert done.returncode == 0, done.stderr[-4000:]


def _our_responses(model: Path, requests: list[dict[str, Any]], folder: Path) -> dict[str, dict[str, Any]]:
    (folder / "req.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests))
    run_hf_model(model, folder / "req.jsonl", folder / "resp.jsonl")
    return {r["request_id"]: r for r in map(json.loads, (folder / "resp.jsonl").read_text().splitlines())}


def test_lm_eval_gives_our_accuracies_on_the_same_docs(stack: BoostqaSettings, tmp_path: Path) -> None:
    model = ensure_model(stack)
    settings = EvalTaskSettings(limit=LIMIT)
    docs = {b.name: load_docs(b.name, settings) for b in BENCHMARKS if b.task_type == "multiple_choice"}
    tasks = write_lm_eval_tasks(docs, tmp_path / "tasks")
    assert len(tasks) == 10

    requests = [r for d in docs.values() for r in model_requests(d, settings.max_new_tokens)]
    responses = _our_responses(model, requests, tmp_path)
    _run_lm_eval(model, tasks, tmp_path / "tasks", tmp_path / "out")

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


def _gsm8k_task(folder: Path, until: tuple[str, ...], max_new_tokens: int) -> None:
    """lm-eval's shipped ``gsm8k`` task (its prompt, filters and metric by ``include``) reading our edition. Two
    overrides, both ours by design (docs/eval.md): the few-shot examples are the first ones of the train split
    (lm-eval's ``first_n`` sampler instead of a random draw), and generation also stops at a blank line."""
    (shipped,) = (PROJECT_ROOT / ".venv-train" / "lib").glob("python*/site-packages/lm_eval/tasks/gsm8k/gsm8k.yaml")
    spec = get_benchmark("gsm8k")
    files = {split: [str(f) for f in edition_files(spec, split)] for split in (spec.eval_split, spec.fewshot_split)}
    task = {"include": str(shipped), "task": GSM8K_TASK, "dataset_path": "json", "dataset_name": None,
            "dataset_kwargs": {"data_files": files}, "fewshot_config": {"sampler": "first_n"},
            "generation_kwargs": {"until": list(until), "do_sample": False, "temperature": 0.0,
                                  "max_gen_toks": max_new_tokens}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{GSM8K_TASK}.yaml").write_text(yaml.safe_dump(task, sort_keys=False), encoding="utf-8")


def _as_lm_eval_compares(answer: str) -> str:
    """A filtered answer the way the gsm8k task's exact_match sees it (its ``regexes_to_ignore``, case folded)."""
    for pattern in (",", r"\$", r"(?s).*#### ", r"\.$"):
        answer = re.sub(pattern, "", answer)
    return answer.lower()


def test_lm_eval_gsm8k_gives_our_exact_match_on_the_same_items(stack: BoostqaSettings, tmp_path: Path) -> None:
    model = ensure_model(stack)
    settings = EvalTaskSettings(limit=GSM8K_LIMIT, num_fewshot={"gsm8k": GSM8K_SHOTS})
    docs = load_docs("gsm8k", settings)
    ours = score_docs(docs, _our_responses(model, model_requests(docs, settings.max_new_tokens), tmp_path),
                      GSM8K_SHOTS)
    _gsm8k_task(tmp_path / "tasks", docs[0].until, settings.max_new_tokens)
    _run_lm_eval(model, [GSM8K_TASK], tmp_path / "tasks", tmp_path / "out", "--limit", str(GSM8K_LIMIT),
                 "--num_fewshot", str(GSM8K_SHOTS))

    theirs = {(s["doc_id"], s["filter"]): s for s in _samples(tmp_path / "out", GSM8K_TASK)}
    filters_used = set()
    for doc_id, result in enumerate(ours):
        strict, flexible = theirs[doc_id, "strict-match"], theirs[doc_id, "flexible-extract"]
        assert result["output"] == strict["resps"][0][0], result["item_id"]  # the same greedy generation
        # ours: the number after "####" (lm-eval's strict-match) when there is one, else the last number
        # (flexible-extract); lm-eval reports both filters, the one our rule picks must agree with us
        used = strict if strict["filtered_resps"][0] != "[invalid]" else flexible
        filters_used.add(used["filter"])
        assert result["predicted"] == _as_lm_eval_compares(used["filtered_resps"][0]), result["item_id"]
        assert result["correct"] == bool(used["exact_match"]), result["item_id"]
    assert filters_used == {"strict-match", "flexible-extract"}  # both extraction paths were compared
