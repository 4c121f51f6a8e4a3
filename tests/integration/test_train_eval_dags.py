"""midtrain and benchmark_eval through ``airflow dags test`` on the embedded stack, on a mixture the data chain
published; the report the evaluation ends with is opened in headless Chromium and read as a reader sees it.

The model is the tiny random-init Llama of ``cpu_smoke`` (seconds to train; the mixture's tokenizer goes with its
export), scored on two benchmarks (one multiple-choice, one generative) beside the embedded base model. Its scores
are near chance: the test checks the plumbing (ids, rows, marts, report), not a gain.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from boostqa.lake.store import ObjectStore
from boostqa.lake.versions import read_pointer
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import query
from boostqa_dev.checkout import PROJECT_ROOT
from boostqa_dev.demo import run_dag
from boostqa_dev.stack.llm_server import model_dir
from boostqa_dev.stack.seaweedfs import lake_config
from tests.conftest import lake_rows
from tests.integration.recorded_generator import recorded_generator

pytestmark = [pytest.mark.integration, pytest.mark.browser]
DAY = date(2026, 12, 1)
SYNTHESIS = {"limit": 8, "shard_size": 8, "difficulty_tolerance": 4, "plain_text": True,
             "refine_policy": "keep_refined"}
TRAIN = {"config": "cpu_smoke", "overrides": "max_steps=4, checkpoint_every=2"}
EVAL = {"benchmarks": "mmlu,gsm8k", "limit": 2, "max_new_tokens": 8}
ARTIFACTS = Path(os.environ.get("BOOSTQA_TEST_ARTIFACTS", PROJECT_ROOT / ".state" / "test-artifacts")) / "report"


def _published_mixture(settings: BoostqaSettings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
                       ) -> dict[str, Any]:
    """The newest published mixture; when the session has none yet (this test run alone), the data chain makes one
    with the recorded generator (from the end of its set: another test may have kept the first replies)."""
    pointer = read_pointer(store, "mixtures")
    if pointer is None or not pointer.get("boostqa_samples"):
        with recorded_generator(settings, monkeypatch, from_the_end=True):
            for dag_id, conf in (("warehouse_build", None), ("qa_synthesis", SYNTHESIS),
                                 ("mixture_export", {"tokenizer_dir": str(model_dir(settings))})):
                run_dag(settings, dag_id, DAY, conf=conf)
        pointer = read_pointer(store, "mixtures")
    assert pointer and pointer["boostqa_samples"], "no mixture with BoostQA items to train on"
    return pointer


def _table(page: Any, section: str) -> list[list[str]]:
    """The rendered text of a report section's table, a list of cells per body row."""
    rows = page.locator(f"section#{section} table tr").all()
    return [[cell.inner_text().strip() for cell in row.locator("td").all()] for row in rows[1:]]


@pytest.mark.timeout(2400)  # up to the whole data chain, then training and two model evaluations through Airflow
def test_midtrain_and_benchmark_eval_run_through_airflow_and_the_report_reads_right(
        annotated_stack: BoostqaSettings, monkeypatch: pytest.MonkeyPatch, browser: Any) -> None:
    settings = annotated_stack
    store = ObjectStore(lake_config(settings))
    mixture = _published_mixture(settings, store, monkeypatch)

    run_dag(settings, "midtrain", DAY, conf=TRAIN)  # the mixture comes from mixtures/latest.json
    training = read_pointer(store, "training")
    assert training and training["mixture_version"] == mixture["version"]
    hf_folder = Path(training["hf_folder"])
    assert (hf_folder / "model.safetensors").exists() and (hf_folder / "tokenizer.json").exists()
    (run,) = query(settings.warehouse_path, "select steps, mixture_version, tokens_trained from "
                   f"marts.fct_training_runs where run_id = '{training['version']}'")
    assert run["steps"] == 4 and run["mixture_version"] == mixture["version"] and run["tokens_trained"] > 0

    reports_before = set(store.list_keys("reports/"))
    # the model comes from training/latest.json; the baseline is the session's converted base model
    run_dag(settings, "benchmark_eval", DAY, conf=EVAL | {"baseline_hf_folder": str(model_dir(settings))})
    scores = [r for r in lake_rows(store, "eval/scores/") if r.get("checkpoint_id") == training["version"]]
    assert {r["benchmark"] for r in scores} == {"gsm8k", "mmlu"}  # a row per metric (mmlu: acc and acc_norm)
    assert all(r["mixture_version"] == mixture["version"] for r in scores)
    comparison = query(settings.warehouse_path, "select benchmark, items, model_id from marts.fct_eval_comparison "
                       "where model_id != baseline_model_id and model_id = (select model_id from "
                       "marts.fct_eval_headline where not is_baseline order by evaluated_at desc limit 1) "
                       "order by benchmark")
    assert [(r["benchmark"], r["items"]) for r in comparison] == [("gsm8k", 2), ("mmlu", 2)]
    model_id = comparison[0]["model_id"]

    (report,) = [k for k in store.list_keys("reports/") if k.endswith("/index.html") and k not in reports_before]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    local = ARTIFACTS / "index.html"
    local.write_bytes(store.get_bytes(report))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(local.as_uri())
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        # the table lists every evaluated model of the session (other tests' too): read this checkpoint's rows
        benchmarks = {cells[0]: cells for cells in _table(page, "benchmarks") if cells[4] == model_id}
        for name in ("gsm8k", "mmlu"):
            cells = benchmarks[name]
            assert cells[2] == "2", cells  # items: a number, not a method's repr
            assert all(c == "–" or c.replace(".", "", 1).lstrip("+-").replace(" %", "").isdigit()
                       for c in (cells[3], cells[5], cells[6])), cells
        headline = _table(page, "headline")
        assert headline and all(row[0] for row in headline)
        ledger = _table(page, "ledger")
        assert ledger and all(row[3].replace(",", "").isdigit() for row in ledger)
        assert page.locator("section#qc svg").count() == 1  # the QC funnel is drawn
    finally:
        page.close()
