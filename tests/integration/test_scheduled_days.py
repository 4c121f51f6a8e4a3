"""Two scheduled days with no new seeds, through Airflow on the embedded stack: each day plans and runs only new
jobs, adds QC-kept items, and exports a new mixture version while the earlier one stays byte-identical. Day one
also checks the synthesis run itself: an item or a reject per job, a QC decision per item, the funnel marts, and a
resume by ``resume_run_id`` that rewrites nothing.

The generator role answers from a recorded reply set (``recorded_generator``: exam questions written by us, one per
distinct request, never one twice): the embedded SmolLM2-135M's questions are mostly removed by QC (malformed
options, template leftovers; a day of 8 jobs kept 0 to 2 in our runs), so strict growth on every day could not be
asserted with it. On day one, verification (annotator role) and refinement (refiner role) run on the real vLLM
server; day two is about accumulation only (plumbing), so the recorded set answers those roles too (the hardest
band, the draft confirmed), which saves minutes of CPU generation. QC runs on everything as usual.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest

from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import query
from boostqa_dev.demo import run_dag
from boostqa_dev.report.days import day_row
from boostqa_dev.stack.llm_server import model_dir
from boostqa_dev.stack.seaweedfs import lake_config
from tests.conftest import lake_rows, run_ids
from tests.integration.recorded_generator import MODEL, ReplySet, recorded_generator

pytestmark = pytest.mark.integration
FIRST_DAY = date(2026, 11, 27)
DAYS = 2
CONF = {"limit": 8, "shard_size": 8, "difficulty_tolerance": 4, "plain_text": True, "refine_policy": "keep_refined"}


def _hashes(store: ObjectStore, prefix: str) -> dict[str, str]:
    return {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in store.list_keys(prefix)}


def _check_day_one(settings: BoostqaSettings, store: ObjectStore, run_id: str) -> None:
    """Every job ends as an item or a reject, QC decides every item, the marts agree, a resume rewrites nothing."""
    run = f"run_id={run_id}/"
    jobs = lake_rows(store, f"synthesis/{run}")
    items, rejects = lake_rows(store, f"qa/{run}"), lake_rows(store, f"quarantine/synthesize/{run}")
    assert sorted(r["item_id"] for r in items + rejects) == sorted(j["job_id"] for j in jobs)
    for item in items:
        assert (item["generator_model"], item["refiner_model"]) == (MODEL, "smollm2-135m-instruct")
        assert item["question"] and item["refined_answer"] and item["generator_request_id"]
        assert (item["options"] is None) == (item["refined_option"] is None)
    funnel = query(settings.warehouse_path, "select sum(jobs) as jobs, sum(kept) as kept from "
                   f"marts.fct_synthesis_funnel where synthesis_run_id = '{run_id}'")
    assert funnel == [{"jobs": len(jobs), "kept": len(items)}]
    kept = lake_rows(store, f"qc/kept/{run}")
    first_reasons = [r for r in lake_rows(store, f"qc/removals/{run}") if r["rank"] == 1]
    assert sorted(r["item_id"] for r in kept + first_reasons) == sorted(r["item_id"] for r in items)
    qc_funnel = query(settings.warehouse_path, "select sum(synthesized) as synthesized, sum(kept) as kept from "
                      f"marts.fct_qc_funnel where synthesis_run_id = '{run_id}'")
    assert qc_funnel == [{"synthesized": len(items), "kept": len(kept)}]
    keys = [k for prefix in (f"qa/{run}", f"llm/ledger/stage=synthesize/{run}", f"qc/kept/{run}",
                             f"qc/removals/{run}") for k in store.list_keys(prefix)]
    before = {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys}
    run_dag(settings, "qa_synthesis", FIRST_DAY, conf=CONF | {"resume_run_id": run_id})  # every shard skipped
    assert {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys} == before
    assert run_ids(store, "synthesis/") >= {run_id}


@pytest.mark.timeout(3600)  # two scheduled days through Airflow: minutes on 2 cores
def test_days_without_new_seeds_run_new_jobs_grow_the_corpus_and_keep_old_versions(
        annotated_stack: BoostqaSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = annotated_stack
    store = ObjectStore(lake_config(settings))
    with recorded_generator(settings, monkeypatch) as replies:
        _days(settings, store, replies)
    assert replies.handed_out == DAYS * CONF["limit"]  # one recorded reply per job, none twice
    assert replies.reviews >= (DAYS - 1) * CONF["limit"]  # from day two: a check per draft, a refinement per pass


def _days(settings: BoostqaSettings, store: ObjectStore, replies: ReplySet) -> None:
    rows, earlier_jobs, frozen = [], set(), {}
    corpus = start = len({r["item_id"] for r in lake_rows(store, "qc/kept/")})
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        runs_before, mixtures_before = run_ids(store, "synthesis/"), set(store.list_keys("mixtures/"))
        export = {"tokenizer_dir": str(model_dir(settings))}  # the session's converted model (the stack's setting)
        if offset == 1:  # from day two on, plumbing only: the recorded set reviews the drafts too
            replies.roles |= {"annotator", "refiner"}
        for dag_id, conf in (("warehouse_build", None), ("qa_synthesis", CONF), ("mixture_export", export)):
            run_dag(settings, dag_id, day, conf=conf)
        (run_id,) = run_ids(store, "synthesis/") - runs_before
        if offset == 0:
            _check_day_one(settings, store, run_id)
        row = day_row(store, day.isoformat(), run_id)
        rows.append(row)

        jobs = {j["job_id"] for j in lake_rows(store, f"synthesis/run_id={run_id}/")}
        assert len(jobs) == CONF["limit"] and not jobs & earlier_jobs, f"day {offset + 1} repeated a job"
        earlier_jobs |= jobs
        generator = [r for r in lake_rows(store, f"llm/ledger/stage=synthesize/run_id={run_id}/")
                     if r["role"] == "generator"]
        assert generator and not any(r["cache_hit"] for r in generator), "a generator turn replayed an old job"
        assert row.items_kept and row.corpus_items == corpus + row.items_kept, f"day {offset + 1} did not grow"
        corpus = row.corpus_items
        assert {k for k in store.list_keys("mixtures/") if k not in mixtures_before} >= {
            f"mixtures/{row.mixture_version}/manifest.json"}, "the day exported no new mixture version"
        for prefix, hashes in frozen.items():  # earlier days' versions: never rewritten
            assert _hashes(store, prefix) == hashes, f"{prefix} changed on day {offset + 1}"
        frozen[f"mixtures/{row.mixture_version}/"] = _hashes(store, f"mixtures/{row.mixture_version}/")
        frozen[f"plans/plan_id={row.plan_id}/"] = _hashes(store, f"plans/plan_id={row.plan_id}/")

    assert sum(r.items_kept for r in rows) == corpus - start  # every kept item counted once, none lost
    assert len({r.plan_id for r in rows}) == len({r.mixture_version for r in rows}) == DAYS
    # the BoostQA part of each version grows with the corpus (the general part is a per-version draw of documents
    # up to a character budget, so the total sample count may move either way)
    boostqa_parts = [r.mixture_boostqa for r in rows]
    assert boostqa_parts == sorted(set(boostqa_parts)), f"the mixtures' BoostQA parts did not grow: {boostqa_parts}"
