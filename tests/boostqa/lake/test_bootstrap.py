from __future__ import annotations

import io

import pyarrow.parquet as pq

from boostqa.lake.bootstrap import TABLES, bootstrap_folders, ensure_schema_parts
from tests.conftest import MemoryStore


def test_empty_typed_parts_are_written_once(memory_store: MemoryStore) -> None:
    written = ensure_schema_parts(memory_store)
    folders = bootstrap_folders()
    assert sorted(written) == sorted(f"{f}part-00000.parquet" for f in folders)
    assert "eval/items/model_id=_bootstrap/benchmark=_bootstrap/part-00000.parquet" in written  # nested tables
    for key, schema in zip(sorted(written), [folders[f] for f in sorted(folders)], strict=True):
        table = pq.read_table(io.BytesIO(memory_store.objects[key]))
        assert table.num_rows == 0 and table.schema.names == schema.names
    assert ensure_schema_parts(memory_store) == []


def test_an_outdated_part_is_rewritten_with_the_current_schema(memory_store: MemoryStore) -> None:
    import pyarrow as pa

    from boostqa.lake.parquet import parquet_bytes

    ensure_schema_parts(memory_store)
    prefix, schema = next(iter(TABLES.items()))
    key = f"{prefix}run_id=_bootstrap/part-00000.parquet"
    older = pa.schema([f for f in schema if f.name != schema.names[-1]])  # as before a column was added
    memory_store.objects[key] = parquet_bytes(older.empty_table())
    assert ensure_schema_parts(memory_store) == [key]
    assert pq.read_table(io.BytesIO(memory_store.objects[key])).schema.names == schema.names
