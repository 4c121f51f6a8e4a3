from __future__ import annotations

import io

import pyarrow.parquet as pq

from boostqa.lake.bootstrap import TABLES, ensure_schema_parts
from tests.conftest import MemoryStore


def test_empty_typed_parts_are_written_once(memory_store: MemoryStore) -> None:
    written = ensure_schema_parts(memory_store)
    assert sorted(written) == sorted(f"{p}run_id=_bootstrap/part-00000.parquet" for p in TABLES)
    for key, schema in zip(sorted(written), [TABLES[p] for p in sorted(TABLES)], strict=True):
        table = pq.read_table(io.BytesIO(memory_store.objects[key]))
        assert table.num_rows == 0 and table.schema.names == schema.names
    assert ensure_schema_parts(memory_store) == []
