"""What the model saw: the trainer's samples record published to the lake, and the dbt models plus the documented
query (run in DuckDB over the published record and a real export's lineage) give exactly the samples held by the
sequences the trainer read."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boostqa.errors import LakeError
from boostqa.export.mixture import export_mixture
from boostqa.export.packing import load_target_tokenizer
from boostqa.lake import layout
from boostqa.lake.tables import TRAINING_SAMPLES_SCHEMA
from boostqa.launch.metrics import publish_training_metrics
from boostqa_dev.checkout import PROJECT_ROOT
from tests.boostqa.export.test_mixture import _selection, tokenizer_dir  # noqa: F401 - fixture
from tests.conftest import MemoryStore, lake_rows
from training.data import PackedMixture
from training.samples import SAMPLES_NAME, SamplesRecord
from training.status import write_metrics

MODELS = PROJECT_ROOT / "dbt_project" / "models"
SEQ_LEN, PER_SHARD = 8, 3


@pytest.fixture
def mixture(memory_store: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A real export (12 samples, several spanning sequences, shards of 3 sequences); returns its manifest."""
    selection = [row | {"sample_id": f"{row['source']}:{row['item_id']}{k}", "item_id": f"{row['item_id']}{k}"}
                 for k in range(3) for row in _selection()]
    export_mixture(memory_store, selection, "v1", load_target_tokenizer(tokenizer_dir), tmp_path / "v1",
                   seq_len=SEQ_LEN, sequences_per_shard=PER_SHARD)
    return tmp_path / "v1" / "manifest.json"


def _train(manifest: Path, output: Path, steps: int, batch: int, seed: int) -> None:
    """What the trainer's rank 0 writes for ``steps`` steps: metrics and the samples record."""
    data = PackedMixture(manifest)
    record = SamplesRecord(data, batch, seed)
    metrics = []
    for step in range(steps):
        indexes = data.samples_for_step(step, batch, seed)
        record.add(step, indexes)
        metrics.append({"step": step, "loss": 1.0, "lr": 1e-4, "tokens": batch * SEQ_LEN, "seconds": 0.1,
                        "tokens_per_s": 80.0, "sample_indexes": indexes.tolist()})
    record.write(output)
    write_metrics(output, metrics)


def test_the_record_is_published_with_the_run_and_replaced_on_a_retry(mixture: Path, tmp_path: Path,
                                                                      memory_store: MemoryStore) -> None:
    _train(mixture, tmp_path / "run", steps=2, batch=3, seed=1)
    assert publish_training_metrics(memory_store, tmp_path / "run", "r1", "cpu_smoke", "v1") == 2  # steps
    rows = lake_rows(memory_store, "training/samples/")
    assert len(rows) == 6 and {(r["run_id"], r["mixture_version"]) for r in rows} == {("r1", "v1")}
    assert [(r["step"], r["batch_position"]) for r in rows] == [(s, p) for s in range(2) for p in range(3)]
    part = pq.read_table(pa.BufferReader(memory_store.objects[layout.training_samples_part("r1")]))
    assert part.schema.equals(TRAINING_SAMPLES_SCHEMA)
    _train(mixture, tmp_path / "run", steps=4, batch=3, seed=1)  # the run resumed and finished
    publish_training_metrics(memory_store, tmp_path / "run", "r1", "cpu_smoke", "v1")
    assert memory_store.list_keys("training/samples/") == [layout.training_samples_part("r1")]
    assert len(lake_rows(memory_store, "training/samples/")) == 12


def test_a_bad_record_is_refused_and_a_missing_one_skipped(mixture: Path, tmp_path: Path,
                                                          memory_store: MemoryStore) -> None:
    run = tmp_path / "run"
    _train(mixture, run, steps=2, batch=3, seed=1)
    with pytest.raises(LakeError, match="trained on mixture \\['v1'\\], the run says 'v2'"):
        publish_training_metrics(memory_store, run, "r1", "cpu_smoke", "v2")
    record = pq.read_table(run / SAMPLES_NAME)
    pq.write_table(pa.concat_tables([record, record.slice(0, 1)]), run / SAMPLES_NAME)
    with pytest.raises(LakeError, match="repeats a"):
        publish_training_metrics(memory_store, run, "r1", "cpu_smoke", "v1")
    pq.write_table(record.slice(0, 3), run / SAMPLES_NAME)
    with pytest.raises(LakeError, match="lacks steps \\[1\\]"):
        publish_training_metrics(memory_store, run, "r1", "cpu_smoke", "v1")
    assert memory_store.list_keys("training/") == []  # nothing published from a refused run
    (run / SAMPLES_NAME).unlink()  # a run of a trainer before the record: its metrics still publish
    assert publish_training_metrics(memory_store, run, "r1", "cpu_smoke", "v1") == 2
    assert memory_store.list_keys("training/") == [layout.training_metrics_part("r1")]


def _render(model: Path, con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> None:
    """Create the dbt model as a table of the same name (its refs and sources are the given relations)."""
    sql = jinja2.Template(model.read_text()).render(ref=lambda name: relations[name],
                                                    source=lambda source, table: relations[f"{source}.{table}"],
                                                    committed_rows=lambda source, table, rule:
                                                    f"select * from {relations[f'{source}.{table}']}")
    con.execute(f"create table {model.stem} as {sql}")


def _docs_queries() -> list[str]:
    text = (PROJECT_ROOT / "docs" / "training.md").read_text()
    section = text.split("\n## What the model saw\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def _expected(manifest: Path, lineage: list[dict[str, Any]], record: list[dict[str, Any]]) -> dict[str, dict]:
    """Independently of the SQL: the samples whose tokens lie in each sequence the trainer read, per epoch."""
    shards = json.loads(manifest.read_text())["packed"]["shards"]
    first = np.cumsum([0] + [s["sequences"] for s in shards])
    pieces = {}
    for row in lineage:
        start = (first[row["packed_shard"]] + row["packed_sequence"]) * SEQ_LEN + row["token_offset"]
        pieces[row["sample_id"]] = set(range(start // SEQ_LEN, (start + row["tokens"] - 1) // SEQ_LEN + 1))
    reads: dict[str, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for read in record:
        assert first[read["packed_shard"]] + read["packed_sequence"] == read["sequence_index"]
        for sample_id, sequences in pieces.items():
            if read["sequence_index"] in sequences:
                reads[sample_id][read["epoch"]].append((read["sequence_index"], read["step"]))
    return {sample_id: {"times_seen": len(epochs), "sequences_spanned": len(pieces[sample_id]),
                        "times_seen_whole": sum({i for i, _ in r} == pieces[sample_id] for r in epochs.values()),
                        "first_step": min(s for r in epochs.values() for _, s in r),
                        "last_step": max(s for r in epochs.values() for _, s in r)}
            for sample_id, epochs in reads.items()}


def test_the_documented_query_returns_exactly_the_samples_in_the_sequences_read(
        mixture: Path, tmp_path: Path, memory_store: MemoryStore) -> None:
    sequences = len(PackedMixture(mixture))
    runs = {"r1": (-(-3 * sequences // 2) // 3, 3, 7), "r2": (2, 2, 8)}  # r1: 1.5 epochs; r2: a few sequences
    for run_id, (steps, batch, seed) in runs.items():
        _train(mixture, tmp_path / run_id, steps, batch, seed)
        publish_training_metrics(memory_store, tmp_path / run_id, run_id, "cpu_smoke", "v1")
    lake = tmp_path / "lake"
    for key, data in memory_store.objects.items():
        (lake / key).parent.mkdir(parents=True, exist_ok=True)
        (lake / key).write_bytes(data)
    lineage = pq.read_table(lake / "mixtures/lineage/run_id=v1/part-00000.parquet").to_pylist()
    con = duckdb.connect()
    con.execute("create table fct_qc_passed_items as select item_id, 'seed_' || item_id as seed_id, "
                "'synthesize_1' as synthesis_run_id, 'p1' as plan_id "
                f"from read_parquet('{lake}/mixtures/lineage/*/*.parquet') where source = 'boostqa'")
    relations = {"training.samples": f"read_parquet('{lake}/training/samples/run_id=*/*.parquet')",
                 "mixtures.lineage": f"read_parquet('{lake}/mixtures/lineage/run_id=*/*.parquet')",
                 **{n: n for n in ("fct_qc_passed_items", "stg_training__samples_seen", "stg_mixtures__lineage",
                                   "fct_mixture_lineage")}}
    _render(MODELS / "staging/training/stg_training__samples_seen.sql", con, relations)
    _render(MODELS / "staging/general/stg_mixtures__lineage.sql", con, relations)
    _render(MODELS / "marts/mixture/fct_mixture_lineage.sql", con, relations)
    _render(MODELS / "marts/training/fct_checkpoint_samples.sql", con, relations)
    con.execute("create schema marts")
    con.execute("create table marts.fct_checkpoint_samples as select * from fct_checkpoint_samples")

    per_item, per_seed = _docs_queries()
    record = pq.read_table(tmp_path / "r1" / SAMPLES_NAME).to_pylist()
    expected = _expected(mixture, lineage, record)
    cursor = con.execute(re.sub(r"run_id = '[^']*'", "run_id = 'r1'", per_item))
    got = [dict(zip([d[0] for d in cursor.description], row, strict=True)) for row in cursor.fetchall()]
    sample_id = {(r["source"], r["item_id"]): r["sample_id"] for r in lineage}
    columns = ["times_seen", "times_seen_whole", "sequences_spanned", "first_step", "last_step"]
    assert {sample_id[(r["source"], r["item_id"])]: {k: r[k] for k in columns} for r in got} == expected
    assert all(r["seed_id"] == (f"seed_{r['item_id']}" if r["source"] == "boostqa" else None) for r in got)
    assert any(e["times_seen"] > e["times_seen_whole"] for e in expected.values())  # a sample read only in part
    assert any(e["sequences_spanned"] > 1 for e in expected.values())
    assert max(e["times_seen"] for e in expected.values()) == 2

    seeds = con.execute(re.sub(r"run_id = '[^']*'", "run_id = 'r1'", per_seed)).fetchall()
    want = sorted((f"seed_{s.removeprefix('boostqa:')}", 1, e["times_seen"]) for s, e in expected.items()
                  if s.startswith("boostqa:"))
    assert seeds == want
    r2 = con.execute("select count(*) from marts.fct_checkpoint_samples where run_id = 'r2'").fetchone()
    assert r2 is not None and 0 < r2[0] < len(lineage)  # runs stay apart
    assert con.execute("select count(*) from stg_training__samples_seen").fetchone() == (len(record) + 4,)
