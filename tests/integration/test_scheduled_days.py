"""Three scheduled days with no new seeds, through Airflow on the embedded stack: each day plans and runs only new
jobs, adds QC-kept items, and exports a new mixture version while the earlier ones stay byte-identical.

The generator is the embedded vLLM server's real SmolLM2-135M (no recorded replies): with the verify step's full
tolerance and ``keep_refined`` a day's few jobs keep at least one item in practice, which is what "the corpus grows"
needs here; the near-duplicate and contamination checks still run on every item.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest

from boostqa.demo import run_dag
from boostqa.lake.store import ObjectStore
from boostqa.report.days import day_row
from boostqa.settings import BoostqaSettings
from boostqa.stack.seaweedfs import lake_config
from tests.conftest import lake_rows, run_ids

pytestmark = pytest.mark.integration
FIRST_DAY = date(2026, 11, 27)
CONF = {"limit": 6, "shard_size": 6, "difficulty_tolerance": 4, "plain_text": True, "refine_policy": "keep_refined"}


def _hashes(store: ObjectStore, prefix: str) -> dict[str, str]:
    return {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in store.list_keys(prefix)}


def test_three_days_without_new_seeds_run_new_jobs_grow_the_corpus_and_keep_old_versions(
        stack_with_llm: BoostqaSettings) -> None:
    settings = stack_with_llm
    store = ObjectStore(lake_config(settings))
    run_dag(settings, "seed_ingest", FIRST_DAY)
    run_dag(settings, "seed_annotate", FIRST_DAY, conf={"limit": 16, "shard_size": 16})

    rows, earlier_jobs, frozen = [], set(), {}
    corpus = len({r["item_id"] for r in lake_rows(store, "qc/kept/")})
    for offset in range(3):
        day = FIRST_DAY + timedelta(days=offset)
        runs_before, mixtures_before = run_ids(store, "synthesis/"), set(store.list_keys("mixtures/"))
        for dag_id, conf in (("warehouse_build", None), ("qa_synthesis", CONF), ("mixture_export", None)):
            run_dag(settings, dag_id, day, conf=conf)
        (run_id,) = run_ids(store, "synthesis/") - runs_before
        row = day_row(store, day.isoformat(), run_id)
        rows.append(row)

        jobs = {j["job_id"] for j in lake_rows(store, f"synthesis/run_id={run_id}/")}
        assert len(jobs) == CONF["limit"] and not jobs & earlier_jobs, f"day {offset + 1} repeated a job"
        earlier_jobs |= jobs
        generator = [r for r in lake_rows(store, f"llm/ledger/stage=synthesize/run_id={run_id}/")
                     if r["role"] == "generator"]
        assert generator and not any(r["cache_hit"] for r in generator), "a generator turn replayed an old job"
        assert row.items_kept > 0 and row.corpus_items > corpus, f"day {offset + 1} did not grow the corpus"
        corpus = row.corpus_items
        assert {k for k in store.list_keys("mixtures/") if k not in mixtures_before} >= {
            f"mixtures/{row.mixture_version}/manifest.json"}, "the day exported no new mixture version"
        for prefix, hashes in frozen.items():  # earlier days' versions: never rewritten
            assert _hashes(store, prefix) == hashes, f"{prefix} changed on day {offset + 1}"
        frozen[f"mixtures/{row.mixture_version}/"] = _hashes(store, f"mixtures/{row.mixture_version}/")
        frozen[f"plans/plan_id={row.plan_id}/"] = _hashes(store, f"plans/plan_id={row.plan_id}/")

    assert len({r.plan_id for r in rows}) == len({r.mixture_version for r in rows}) == 3
    assert [r.mixture_samples for r in rows] == sorted(r.mixture_samples for r in rows)
