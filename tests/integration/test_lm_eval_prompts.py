"""Prompt parity with lm-evaluation-harness: lm-eval's own task definitions, rendered on our local benchmark
editions, give our prompts character for character (contexts, few-shot examples, continuations)."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from boostqa.benchmarks.loader import edition_files, subjects_of
from boostqa.benchmarks.registry import BENCHMARKS, BenchmarkSpec
from boostqa.eval.prompts import EvalDoc, description
from boostqa.eval.tasks import DEFAULT_FEWSHOT, EvalTaskSettings, load_docs
from boostqa_dev.checkout import PROJECT_ROOT

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).with_name("lm_eval_prompts.py")
MATH_TASKS = {"counting_and_probability": "counting_and_prob", "number_theory": "num_theory",
              "precalculus": "precalc"}
# Where ours deliberately differ from lm-eval's task, and why (docs/eval.md says the same). Only the stop
# sequences of the generative tasks differ: every context and continuation is lm-eval's.
DELIBERATE: dict[str, tuple[frozenset[str], str]] = {
    "gsm8k": (frozenset({"\n\n"}), "a blank line also ends an answer (few-shot examples are separated by one): "
              "ours stops there, lm-eval's only once the model starts the next 'Question:'"),
    "math": (frozenset({"\n\n", "</s>", "<|im_end|>"}), "hendrycks_math stops at 'Problem:' only; ours also at "
             "a blank line and the end-of-turn markers, like GSM8K"),
}
# lm-eval samples GSM8K's (and hendrycks_math's) few-shot examples at random (seed 1234); ours are the first ones
# of the split. The check makes lm-eval take the first ones too (its first_n sampler) and compares how each is written.
RANDOM_SAMPLER = frozenset({"gsm8k", "math"})


def lm_eval_task(spec: BenchmarkSpec, config: str) -> str:
    """lm-eval's task for one config (subject) of a benchmark."""
    prefix = {"mmlu": "mmlu_", "cmmlu": "cmmlu_", "ceval": "ceval-valid_", "math": "hendrycks_math_"}
    if spec.name in prefix:
        return prefix[spec.name] + MATH_TASKS.get(config, config)
    return spec.name


def _plan_entry(spec: BenchmarkSpec, eval_file: Path) -> dict[str, Any]:
    """The lm-eval task of one local config: its eval file, and the few-shot files ours draw from (the same
    config's, else the whole split's)."""
    data_files = {spec.eval_split: [str(eval_file)]}
    shots = [0]
    fewshot = edition_files(spec, spec.fewshot_split) if spec.fewshot_split else []
    if fewshot and DEFAULT_FEWSHOT.get(spec.name):
        same = [f for f in fewshot if f.stem == eval_file.stem]
        data_files[spec.fewshot_split or ""] = [str(f) for f in same or fewshot]
        shots.append(DEFAULT_FEWSHOT[spec.name])
    return {"task": lm_eval_task(spec, eval_file.stem), "data_files": data_files, "num_fewshot": shots,
            "first_n": spec.name in RANDOM_SAMPLER, "benchmark": spec.name, "config": eval_file.stem}


def _lm_eval_render(plan: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    done = subprocess.run(
        [str(PROJECT_ROOT / ".venv-train" / "bin" / "python"), str(SCRIPT), "plan.json", "out.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={"PATH": "/usr/bin:/bin", "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))


def _ours(doc: EvalDoc) -> list[tuple[str, str]] | list[tuple[str, frozenset[str]]]:
    """Our requests of one doc: (context, continuation) per choice, or (prompt, stops)."""
    if doc.until:
        return [(doc.contexts[0], frozenset(doc.until))]
    return doc.pairs


def _theirs(requests: list[list[Any]], benchmark: str) -> dict[int, list[tuple[str, Any]]]:
    """lm-eval's requests by doc: (context, continuation), or (prompt, stops plus our deliberate extras)."""
    by_doc: dict[int, list[tuple[int, tuple[str, Any]]]] = defaultdict(list)
    for doc_id, idx, (context, second) in requests:
        if isinstance(second, dict):
            extra = DELIBERATE.get(benchmark, (frozenset(), ""))[0]
            second = frozenset(second["until"]) | extra
        by_doc[doc_id].append((idx, (context, second)))
    return {doc_id: [r for _, r in sorted(pairs)] for doc_id, pairs in by_doc.items()}


def test_lm_eval_task_definitions_give_our_prompts(tmp_path: Path) -> None:
    entries = [_plan_entry(spec, f) for spec in BENCHMARKS for f in edition_files(spec, spec.eval_split)]
    lettered = [s for s in BENCHMARKS if s.name in ("mmlu", "cmmlu", "ceval")]
    every_subject = {lm_eval_task(s, c): (s, c) for s in lettered for c in subjects_of(s)}
    rendered = _lm_eval_render({"tasks": entries, "descriptions": sorted(every_subject)}, tmp_path)

    compared: dict[str, int] = defaultdict(int)
    for name, (spec, config) in every_subject.items():  # descriptions of every subject we may score
        assert description(spec.row_format, config) == rendered["descriptions"][name], name
    for entry in entries:
        benchmark = entry["benchmark"]
        for shots in entry["num_fewshot"]:
            docs = [d for d in load_docs(benchmark, EvalTaskSettings(num_fewshot={benchmark: shots}))
                    if d.item.config == entry["config"]]
            theirs = _theirs(rendered["requests"][entry["task"]][str(shots)], benchmark)
            assert len(theirs) == len(docs), entry["task"]
            for doc in docs:
                index = int(doc.item.item_id.rsplit(":", 1)[1])
                assert _ours(doc) == theirs[index], f"{entry['task']} {shots}-shot, {doc.item.item_id}"
                compared[f"{benchmark} {shots}-shot"] += 1
    assert {b.name for b in BENCHMARKS} == {key.split()[0] for key in compared}
    assert all(f"{b} {n}-shot" in compared for b, n in DEFAULT_FEWSHOT.items())
