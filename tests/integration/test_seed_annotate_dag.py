"""seed_annotate through Airflow against the real vLLM server and SeaweedFS: one mapped task per frozen shard, counts
add up in the run's summary, a resumed run is free, a new run on the same day labels other seeds."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest

from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa_dev.demo import run_dag
from boostqa_dev.stack.seaweedfs import lake_config
from tests.conftest import lake_rows, new_run_id, run_ids

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 22)
CONF = {"limit": 6, "shard_size": 3}


def test_seed_annotate_dag_labels_or_quarantines_every_seed_once(stack_with_llm: BoostqaSettings) -> None:
    settings = stack_with_llm
    run_dag(settings, "seed_ingest", DAY)
    store = ObjectStore(lake_config(settings))
    before = run_ids(store, "annotate/worklists/")
    run_dag(settings, "seed_annotate", DAY, conf=CONF)
    first = new_run_id(store, "annotate/worklists/", before)
    assert first.startswith("annotate_")
    run = f"run_id={first}/"
    annotations = lake_rows(store, f"annotations/{run}")
    quarantined = lake_rows(store, f"quarantine/annotate/{run}")
    ids = [r["item_id"] for r in annotations + quarantined]
    assert len(ids) == len(set(ids)) == 6
    assert sorted(set(ids)) == sorted(r["seed_id"] for r in lake_rows(store, f"annotate/worklists/{run}"))
    assert annotations, "every seed was quarantined: nothing was labelled"  # the run must produce labels
    assert all(r["annotator_model"] == "smollm2-135m-instruct" and r["request_id"] for r in annotations)
    ledger = lake_rows(store, f"llm/ledger/stage=annotate/{run}")
    assert ledger and not any(r["cache_hit"] for r in ledger)
    # two mapped annotate_shard tasks over the frozen boundaries, then finish_run's summary with the run's counts
    assert json.loads(store.get_bytes(f"annotate/worklists/{run}shards.json"))["bounds"] == [[0, 3], [3, 6]]
    assert all(store.get_bytes_or_none(f"annotations/{run}_SUCCESS.{shard:05d}") is not None for shard in (0, 1))
    summary = json.loads(store.get_bytes(f"annotations/{run}_SUCCESS"))
    assert (summary["seeds"], summary["shards"], summary["annotated"], summary["quarantined"]) == (
        6, 2, len(annotations), len(quarantined))
    assert summary["llm_calls"] == len(ledger)

    keys = store.list_keys(f"annotations/{run}") + store.list_keys(f"llm/ledger/stage=annotate/{run}")
    before_bytes = {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys}
    run_dag(settings, "seed_annotate", DAY, conf=CONF | {"resume_run_id": first})
    after = {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys}
    assert after == before_bytes  # resumed: its finished shards are skipped, nothing rewritten, no new calls

    # a new run the same day is a new run id; it labels seeds no earlier run has, and the first run's objects stay
    before = run_ids(store, "annotate/worklists/")
    run_dag(settings, "seed_annotate", DAY, conf=CONF)
    second = new_run_id(store, "annotate/worklists/", before)
    new_ids = {r["seed_id"] for r in lake_rows(store, f"annotate/worklists/run_id={second}/")}
    assert len(new_ids) == 6 and not new_ids & set(ids)
    assert {k: hashlib.sha256(store.get_bytes(k)).hexdigest() for k in keys} == before_bytes
