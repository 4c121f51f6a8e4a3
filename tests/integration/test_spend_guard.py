"""The spend guard through Airflow on the embedded stack: an over-budget run fails before any LLM call; a run that
reaches its cap mid-way stops, and the next run on the same plan finishes the jobs it left without billing any turn
twice.

The generator role answers from the recorded reply set, from its end (``recorded_generator``; the scheduled-days test
takes replies from the start): the test is about the guard's plumbing, and recorded questions keep each synthesis
run to seconds instead of minutes of SmolLM2 generation on 2 cores. Verification and refinement stay on vLLM.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from boostqa.errors import StackError
from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import dbt_env, query, run_dbt
from boostqa_dev.demo import run_dag
from boostqa_dev.stack.seaweedfs import lake_config
from tests.conftest import lake_rows, new_run_id, run_ids
from tests.integration.recorded_generator import recorded_generator

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 30)
CONF = {"limit": 6, "shard_size": 6, "difficulty_tolerance": 4, "plain_text": True, "refine_policy": "keep_refined"}


def _synthesis(settings: BoostqaSettings, store: ObjectStore, conf: dict[str, object], fails: bool = False) -> str:
    before = run_ids(store, "synthesis/")
    if fails:
        with pytest.raises(StackError):
            run_dag(settings, "qa_synthesis", DAY, conf=conf)
    else:
        run_dag(settings, "qa_synthesis", DAY, conf=conf)
    return new_run_id(store, "synthesis/", before)


@pytest.mark.timeout(1800)  # three synthesis runs and up to one warehouse build through Airflow
def test_over_budget_fails_before_calling_and_a_capped_run_leaves_its_rest_to_the_next(
        annotated_stack: BoostqaSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = annotated_stack
    with recorded_generator(settings, monkeypatch, from_the_end=True):
        _refused_capped_then_finished(settings, ObjectStore(lake_config(settings)), tmp_path)


def _refused_capped_then_finished(settings: BoostqaSettings, store: ObjectStore, tmp_path: Path) -> None:
    if store.get_bytes_or_none("plans/latest.json") is None:  # an earlier test's plan serves as well
        run_dag(settings, "warehouse_build", DAY)

    refused = _synthesis(settings, store, CONF | {"run_tokens": 1}, fails=True)
    (record,) = lake_rows(store, f"llm/budgets/stage=synthesize/run_id={refused}/")
    assert not record["is_accepted"] and record["jobs"] == 6 and record["projected_tokens"] > 1
    assert str(record["projected_tokens"]) in record["reason"].replace(",", "")  # the numbers are in the message
    assert lake_rows(store, f"llm/ledger/stage=synthesize/run_id={refused}/") == []  # not one call
    assert not store.list_keys(f"qa/run_id={refused}/")

    # The projection fits this cap exactly, but the run's one shard gets a quarter of it (up to four shards may run
    # at once): the guard stops it mid-way and the jobs it did not finish stay pending.
    cap = int(record["projected_tokens"])
    capped = _synthesis(settings, store, CONF | {"run_tokens": cap})
    jobs = {j["job_id"] for j in lake_rows(store, f"synthesis/run_id={capped}/")}
    done = {r["item_id"] for prefix in ("qa/", "quarantine/synthesize/")
            for r in lake_rows(store, f"{prefix}run_id={capped}/")}
    pending = jobs - done
    capped_ledger = lake_rows(store, f"llm/ledger/stage=synthesize/run_id={capped}/")
    billed = [r for r in capped_ledger if not r["cache_hit"]]
    assert pending and billed, "the cap should stop the run after some calls"
    assert sum(r["prompt_tokens"] + r["completion_tokens"] for r in billed) <= cap

    # the next run on the same plan takes the pending jobs first (a new plan would re-issue them only while their
    # buckets still need them: the capped run's kept items may have met a target meanwhile)
    following = _synthesis(settings, store, CONF | {"limit": 12, "shard_size": 12})
    following_jobs = {j["job_id"] for j in lake_rows(store, f"synthesis/run_id={following}/")}
    assert pending <= following_jobs
    done_after = {r["item_id"] for prefix in ("qa/", "quarantine/synthesize/")
                  for r in lake_rows(store, f"{prefix}run_id={following}/")}
    assert pending <= done_after  # finished by the next run
    # no turn billed twice: every turn the capped run paid for a pending job replays from the cache in the next run
    # (a replay may also come from another job's identical request, so replays can only be more)
    following_ledger = lake_rows(store, f"llm/ledger/stage=synthesize/run_id={following}/")
    replays = Counter((r["item_id"], r["role"]) for r in following_ledger if r["cache_hit"])
    paid_before = Counter((r["item_id"], r["role"]) for r in billed if r["item_id"] in pending)
    assert paid_before, "the capped run paid for no turn of a pending job"
    for key, count in paid_before.items():
        assert replays[key] >= count, f"{key}: {count} turns paid by the capped run, {replays[key]} replayed"

    # the budget mart reads the runs' records: built with its upstream only (the whole warehouse_build DAG is
    # covered elsewhere; here it would add a minute for one mart)
    run_dbt(["build", "--select", "+fct_llm_budget", "--target-path", str(tmp_path / "target")],
            dbt_env(lake_config(settings), settings.warehouse_path))
    budget = query(settings.warehouse_path, "select grain, run_id, budget_tokens, spent_tokens, was_refused from "
                   f"marts.fct_llm_budget where run_id in ('{refused}', '{capped}') order by run_id")
    assert {r["run_id"]: (r["was_refused"], r["budget_tokens"]) for r in budget} == {
        refused: (True, 1), capped: (False, cap)}
