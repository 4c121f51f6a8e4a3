"""seed_annotate through Airflow against the real vLLM server and SeaweedFS: counts add up, a rerun is free."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from boostqa.demo import run_dag
from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa.stack.seaweedfs import lake_config
from tests.conftest import lake_rows

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 22)



def test_seed_annotate_dag_labels_or_quarantines_every_seed_once(stack_with_llm: BoostqaSettings) -> None:
    settings = stack_with_llm
    run_dag(settings, "seed_ingest", DAY)
    run_dag(settings, "seed_annotate", DAY, conf={"limit": 6, "shard_size": 3})
    store = ObjectStore(lake_config(settings))
    run = f"run_id=annotate_{DAY}/"
    annotations = lake_rows(store, f"annotations/{run}")
    quarantined = lake_rows(store, f"quarantine/annotate/{run}")
    ids = [r["item_id"] for r in annotations + quarantined]
    assert len(ids) == len(set(ids)) == 6
    assert all(r["annotator_model"] == "smollm2-135m-instruct" and r["request_id"] for r in annotations)
    ledger = lake_rows(store, f"llm/ledger/stage=annotate/{run}")
    assert ledger and not any(r["cache_hit"] for r in ledger)

    keys = store.list_keys(f"annotations/{run}") + store.list_keys(f"llm/ledger/stage=annotate/{run}")
    before = {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys}
    run_dag(settings, "seed_annotate", DAY, conf={"limit": 6, "shard_size": 3})
    after = {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys}
    assert after == before  # finished shards are skipped: nothing rewritten, no new calls
