"""The job driver (``python -m boostqa.jobs``) runs a stage against the lake and prints its result line."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from boostqa.errors import ConfigError
from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa.jobs.stages import count_tokens_job, export_job, qc_job
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import QA_SCHEMA
from boostqa.settings import get_settings
from tests.boostqa.export.test_mixture import _selection, tokenizer_dir  # noqa: F401 - fixture
from tests.boostqa.qc.planted import planted_items
from tests.conftest import MemoryStore

LAKE = LakeLocation(bucket="test-bucket")


def _put_run(store: MemoryStore, run: str, rows: list[dict[str, object]]) -> None:
    store.put_bytes(layout.qa_prefix(run) + layout.part_name(0),
                    parquet_bytes(pa.Table.from_pylist([r | {"run_id": run} for r in rows], schema=QA_SCHEMA)))
    commit_shard(store, layout.qa_prefix(run), 0)


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


def test_the_export_job_exports_the_selection_once(memory_store: MemoryStore, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   tokenizer_dir: Path) -> None:  # noqa: F811
    monkeypatch.setenv("BOOSTQA_STATE_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        rows = [r | {"sample_order": i + 1} for i, r in enumerate(_selection())]
        memory_store.put_bytes("mixtures/v1/selection.parquet", parquet_bytes(pa.Table.from_pylist(rows)))
        spec = JobSpec(stage="export", run_id="v1", lake=LAKE, params={"tokenizer_dir": str(tokenizer_dir),
                                                                       "seq_len": 16})
        result = export_job(memory_store, spec, on_ray=False)  # type: ignore[arg-type]
        assert (result["samples"], result["reused"]) == (4, False)
        assert result["local_dir"] == str(tmp_path / "mixtures" / "v1")  # in process: a local copy too
        again = export_job(memory_store, spec, on_ray=False)  # type: ignore[arg-type]
        assert again == {"mixture_version": "v1", "manifest_sha256": result["manifest_sha256"], "reused": True}
    finally:
        get_settings.cache_clear()


def test_a_count_job_without_a_tokenizer_is_a_config_error(memory_store: MemoryStore, tmp_path: Path) -> None:
    spec = JobSpec(stage="count_tokens", run_id="v1", lake=LAKE, params={"tokenizer_dir": str(tmp_path)})
    with pytest.raises(ConfigError, match="no tokenizer.json"):
        count_tokens_job(memory_store, spec)  # type: ignore[arg-type]
