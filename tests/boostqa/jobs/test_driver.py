"""The job driver (``python -m boostqa.jobs``) runs a stage against the lake and prints its result line."""

from __future__ import annotations

import pyarrow as pa
import pytest

from boostqa.errors import ConfigError
from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa.jobs.stages import qc_job
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import QA_SCHEMA
from tests.boostqa.qc.planted import planted_items
from tests.conftest import MemoryStore

LAKE = LakeLocation(bucket="test-bucket")


def _put_run(store: MemoryStore, run: str, rows: list[dict[str, object]]) -> None:
    store.put_bytes(layout.qa_prefix(run) + layout.part_name(0),
                    parquet_bytes(pa.Table.from_pylist([r | {"run_id": run} for r in rows], schema=QA_SCHEMA)))


def _rows(items: slice) -> list[dict[str, object]]:
    return [{n: p.row.get(n) for n in QA_SCHEMA.names} for p in planted_items([])[items]]


def test_the_qc_job_qcs_the_run_and_returns_counts(memory_store: MemoryStore) -> None:
    _put_run(memory_store, "synthesize_20261125", _rows(slice(-3, None)))
    result = qc_job(memory_store, JobSpec(stage="qc", run_id="synthesize_20261125", lake=LAKE,  # type: ignore[arg-type]
                                          params={"force": False}))
    assert result["items"] == 3 and result["kept"] == 0 and sum(result["reasons"].values()) == 3
    assert memory_store.get_bytes_or_none(layout.qc_marker("synthesize_20261125")) is not None


def test_an_incompatible_index_is_a_config_error(memory_store: MemoryStore) -> None:
    for run in ("run_a", "run_b"):
        _put_run(memory_store, run, _rows(slice(0, 2)))
    qc_job(memory_store, JobSpec(stage="qc", run_id="run_a", lake=LAKE))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="rebuild-index"):
        qc_job(memory_store, JobSpec(stage="qc", run_id="run_b", lake=LAKE,  # type: ignore[arg-type]
                                     params={"shingle_size": 4}))
