"""qa_synthesis through Airflow on the real stack: plan -> jobs -> generate/verify/refine -> qa/ and the funnel."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest

from boostqa.demo import run_dag
from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa.stack.seaweedfs import lake_config
from boostqa.warehouse import query
from tests.conftest import lake_rows, new_run_id, run_ids

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 23)
CONF = {"limit": 4, "shard_size": 2, "difficulty_tolerance": 4, "plain_text": True}


def test_qa_synthesis_makes_an_item_or_reject_per_job_and_qc_decides_each_item(
        stack_with_llm: BoostqaSettings) -> None:
    settings = stack_with_llm
    run_dag(settings, "seed_ingest", DAY)
    run_dag(settings, "seed_annotate", DAY, conf={"limit": 12, "shard_size": 12})
    run_dag(settings, "warehouse_build", DAY)
    store = ObjectStore(lake_config(settings))
    before = run_ids(store, "synthesis/")
    run_dag(settings, "qa_synthesis", DAY, conf=CONF)
    run_id = new_run_id(store, "synthesis/", before)
    run = f"run_id={run_id}/"
    plan_id = json.loads(store.get_bytes("plans/latest.json"))["version"]
    jobs = lake_rows(store, f"synthesis/{run}")
    items, rejects = lake_rows(store, f"qa/{run}"), lake_rows(store, f"quarantine/synthesize/{run}")
    assert len(jobs) == 4 and {j["plan_id"] for j in jobs} == {plan_id}
    assert sorted(r["item_id"] for r in items + rejects) == sorted(j["job_id"] for j in jobs)
    for item in items:
        assert item["generator_model"] == item["refiner_model"] == "smollm2-135m-instruct"
        assert item["question"] and item["refined_answer"] and item["generator_request_id"]
        assert (item["options"] is None) == (item["refined_option"] is None)
    ledger = lake_rows(store, f"llm/ledger/stage=synthesize/{run}")
    assert {r["role"] for r in ledger} >= {"generator"}

    funnel = query(settings.warehouse_path, "select sum(jobs) as jobs, sum(kept) as kept from "
                   f"marts.fct_synthesis_funnel where synthesis_run_id = '{run_id}'")
    assert funnel == [{"jobs": 4, "kept": len(items)}]

    kept = lake_rows(store, f"qc/kept/{run}")
    first_reasons = [r for r in lake_rows(store, f"qc/removals/{run}") if r["rank"] == 1]
    assert sorted(r["item_id"] for r in kept + first_reasons) == sorted(r["item_id"] for r in items)
    qc_funnel = query(settings.warehouse_path, "select sum(synthesized) as synthesized, sum(kept) as kept from "
                      f"marts.fct_qc_funnel where synthesis_run_id = '{run_id}'")
    assert qc_funnel == [{"synthesized": len(items), "kept": len(kept)}]

    keys = [k for prefix in (f"qa/{run}", f"llm/ledger/stage=synthesize/{run}", f"qc/kept/{run}",
                             f"qc/removals/{run}") for k in store.list_keys(prefix)]
    before = {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys}
    run_dag(settings, "qa_synthesis", DAY, conf=CONF | {"resume_run_id": run_id})  # resumes: every shard skipped
    assert {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys} == before
