"""dbt reads committed parts only: on the real lake, a part whose marker is missing is invisible to the staging views
until its marker lands, for every commit rule of the lake contract."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest

from boostqa.lake import layout
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import KEPT_SCHEMA, LEDGER_SCHEMA, LINEAGE_SCHEMA, QA_SCHEMA, SEED_SCHEMA
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import dbt_env, query, run_dbt, warehouse_snapshot
from boostqa_dev.stack.seaweedfs import lake_config

pytestmark = pytest.mark.integration
RUN = "synthesize_commit_it"
DAY = date(2026, 1, 3)
SOURCE = "commit_it"
VERSION = "mix_commit_it"


def _table(schema: pa.Schema, rows: list[dict[str, object]]) -> bytes:
    return parquet_bytes(pa.Table.from_pylist([dict.fromkeys(schema.names) | r for r in rows], schema=schema))


def _write_uncommitted(store: ObjectStore) -> dict[str, str]:
    """Two synthesis shards and their ledgers, a seed partition, a QC run's kept part and a mixture's lineage, with
    only shard 0's marker: returns the marker key that commits each of the others."""
    for shard in (0, 1):
        store.put_bytes(layout.qa_prefix(RUN) + layout.part_name(shard),
                        _table(QA_SCHEMA, [{"item_id": f"i{shard}", "run_id": RUN, "question": "q?"}]))
        store.put_bytes(layout.ledger_prefix("synthesize", RUN) + layout.part_name(shard),
                        _table(LEDGER_SCHEMA, [{"run_id": RUN, "item_id": f"i{shard}", "role": "generator",
                                                "prompt_tokens": 1, "completion_tokens": 1, "cache_hit": False,
                                                "status": "ok", "attempts": 1}]))
    commit_shard(store, layout.qa_prefix(RUN), 0)
    store.put_bytes(layout.raw_seed_prefix(SOURCE, DAY) + layout.part_name(0),
                    _table(SEED_SCHEMA, [{"seed_id": "s" * 64, "source": SOURCE, "question": "q?",
                                          "ingest_date": DAY, "run_id": layout.ingest_run_id(DAY)}]))
    store.put_bytes(layout.qc_bucket_part("kept", RUN, 0), _table(KEPT_SCHEMA, [{"item_id": "i0", "run_id": RUN}]))
    store.put_bytes(layout.mixture_lineage_part(VERSION),
                    _table(LINEAGE_SCHEMA, [{"mixture_version": VERSION, "sample_id": "boostqa:i0",
                                             "source": "boostqa", "item_id": "i0", "tokens": 3}]))
    return {"qa": layout.shard_marker(layout.qa_prefix(RUN), 1), "seeds": layout.seeds_manifest_key(SOURCE, DAY),
            "qc": layout.qc_marker(RUN), "lineage": layout.mixture_prefix(VERSION) + "manifest.json"}


COUNTS = {  # what a reader sees of the test's objects, per table
    "qa": f"select count(*) as n from staging.stg_qa__items where synthesis_run_id = '{RUN}'",
    "ledger": f"select count(*) as n from staging.stg_llm__ledger where run_id = '{RUN}'",
    "seeds": f"select count(*) as n from staging.stg_seeds__questions where source_name = '{SOURCE}'",
    "qc": f"select count(*) as n from staging.stg_qc__kept where synthesis_run_id = '{RUN}'",
    "lineage": f"select count(*) as n from staging.stg_mixtures__lineage where mixture_version = '{VERSION}'",
}


def _seen(stack: BoostqaSettings, warehouse: Path) -> dict[str, int]:
    with warehouse_snapshot(warehouse) as snapshot:  # staging views read the lake when queried
        return {name: query(snapshot, sql, lake_config(stack))[0]["n"] for name, sql in COUNTS.items()}


def test_staging_sees_a_part_only_once_its_marker_exists(stack: BoostqaSettings, tmp_path: Path) -> None:
    store = ObjectStore(lake_config(stack))
    ensure_schema_parts(store)
    markers = _write_uncommitted(store)
    written = [k for prefix in (layout.qa_prefix(RUN), layout.ledger_prefix("synthesize", RUN),
                                layout.raw_seed_prefix(SOURCE, DAY), f"{layout.qc_table_prefix('kept')}run_id={RUN}/",
                                layout.mixture_prefix(VERSION), f"{layout.MIXTURE_LINEAGE}/run_id={VERSION}/")
               for k in store.list_keys(prefix)]
    try:
        warehouse = tmp_path / "wh.duckdb"
        run_dbt(["run", "--select", "path:models/staging", "--target-path", str(tmp_path / "target")],
                dbt_env(lake_config(stack), warehouse))
        assert _seen(stack, warehouse) == {"qa": 1, "ledger": 1, "seeds": 0, "qc": 0, "lineage": 0}  # shard 0 only

        for marker in markers.values():
            store.put_bytes(marker, b"{}")
        assert _seen(stack, warehouse) == {"qa": 2, "ledger": 2, "seeds": 1, "qc": 1, "lineage": 1}
    finally:
        store.delete_keys(sorted(set(written) | set(markers.values()) | {
            layout.shard_marker(layout.qa_prefix(RUN), 0)}))

