"""Scoring: acc and acc_norm as lm-eval defines them, exact match, buckets on every row, missing responses."""

from __future__ import annotations

import json
import math
import subprocess

import pytest

from boostqa.eval.score import MissingResponseError, benchmark_metrics, mean_stderr, score_docs
from boostqa.eval.tasks import EvalTaskSettings, load_docs
from boostqa_dev.checkout import PROJECT_ROOT


def _responses(logprobs: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {f"{item}#{i}": {"logprob": lp} for item, lps in logprobs.items() for i, lp in enumerate(lps)}


def test_acc_takes_the_likeliest_choice_and_acc_norm_divides_by_its_length() -> None:
    docs = load_docs("arc_easy", EvalTaskSettings(limit=2))
    first, second = docs
    lengths = [len(c) for c in first.choices]
    longest = max(range(len(lengths)), key=lengths.__getitem__)
    # every choice of the first item costs 1 nat per character except the longest, which is 10 nats cheaper:
    # acc picks the longest, acc_norm picks whichever has the lowest per-character cost
    lp_first = [-float(n) for n in lengths]
    lp_first[longest] += 10
    gold_second = second.gold or 0
    lp_second = [-5.0] * len(second.choices)
    lp_second[gold_second] = -1.0
    results = score_docs(docs, _responses({first.item.item_id: lp_first, second.item.item_id: lp_second}), 0)
    assert results[0]["predicted"] == "ABCDE"[longest] and results[1]["correct"] is True
    per_char = [lp / n for lp, n in zip(lp_first, lengths, strict=True)]
    assert results[0]["correct_norm"] == (max(range(len(per_char)), key=per_char.__getitem__) == first.gold)
    metrics = benchmark_metrics(docs, results)
    assert metrics["acc"] == pytest.approx(sum(r["correct"] for r in results) / 2)
    assert metrics["acc_norm"] == pytest.approx(sum(r["correct_norm"] for r in results) / 2)
    assert metrics["acc_stderr"] == pytest.approx(mean_stderr([float(r["correct"]) for r in results]))
    assert {(r["discipline_id"], r["difficulty"]) for r in results} == {("earth_science", 2)}


def test_generative_items_score_by_exact_match_of_the_extracted_answer() -> None:
    docs = load_docs("gsm8k", EvalTaskSettings(limit=2))
    gold = docs[0].item.answer
    responses = {docs[0].item.item_id: {"text": f" so the total is {gold}.\n"},
                 docs[1].item.item_id: {"text": " I do not know"}}
    results = score_docs(docs, responses, 5)
    assert [r["correct"] for r in results] == [True, False] and results[0]["output"].startswith(" so the total")
    # lm-eval's stderr of [1, 0]: sample standard deviation sqrt(0.5) over sqrt(2)
    assert benchmark_metrics(docs, results) == {"exact_match": 0.5, "exact_match_stderr": pytest.approx(0.5)}
    assert math.isnan(benchmark_metrics(docs[:0], []).get("exact_match", math.nan))


def test_a_missing_response_names_the_request() -> None:
    docs = load_docs("piqa", EvalTaskSettings(limit=1))
    with pytest.raises(MissingResponseError, match=docs[0].item.item_id):
        score_docs(docs, {}, 0)


@pytest.mark.integration  # lm-eval lives in the training venv
def test_the_standard_error_is_lm_evals() -> None:
    samples = [[1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0], [0.0, 1.0], [1.0] * 5 + [0.0] * 95]
    done = subprocess.run(  # noqa: S603
        [str(PROJECT_ROOT / ".venv-train" / "bin" / "python"), "-c", "import json, sys; "
         "from lm_eval.api.metrics import mean_stderr; "
         "print(json.dumps([mean_stderr(s) for s in json.loads(sys.argv[1])]))",
         json.dumps(samples)], capture_output=True, text=True, check=True)
    assert [mean_stderr(s) for s in samples] == pytest.approx(json.loads(done.stdout.splitlines()[-1]), rel=1e-12)
    assert mean_stderr([1.0]) is None  # one item: no spread to estimate
