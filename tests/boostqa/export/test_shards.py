"""Shards by position: the plan equals the streaming packer, and the Ray path's steps, however the selection is split
and whichever order the shards are written in, give the bytes of the in-process export."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from boostqa.errors import ConfigError
from boostqa.export.distributed import read_positions, selection_columns, task_rows, write_task
from boostqa.export.mixture import export_mixture, finish_export
from boostqa.export.packing import Packer, TargetTokenizer, load_target_tokenizer
from boostqa.export.shards import ExportPlan, ShardTask, checked, count_samples, in_position_order, packed_shard
from tests.boostqa.export.test_mixture import WORDS, _selection, tokenizer_dir  # noqa: F401 - fixture
from tests.conftest import MemoryStore


@pytest.mark.parametrize("seed", range(5))
def test_the_plan_packs_the_bytes_and_starts_of_the_streaming_packer(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    docs = [[rnd.randrange(2, 900) for _ in range(rnd.choice([0, 1, 3, 7, 20, 45]))] for _ in range(60)]
    packer = Packer(tmp_path, seq_len=8, eos_token_id=1, vocab_size=1000, sequences_per_shard=3)
    starts = [packer.add(doc) for doc in docs]
    expected = {s.path: (tmp_path / s.path).read_bytes() for s in packer.close()}

    plan = ExportPlan(np.array([len(d) + 1 for d in docs]), rows_per_shard=7, seq_len=8, sequences_per_shard=3)
    packed = [t for t in plan.tasks() if t.kind == "packed"]
    got = {t.path: packed_shard(t, docs[t.first : t.stop], 1, np.dtype(np.uint16)) for t in packed}
    assert got == expected  # documents longer than a shard (45 + EOS > 24 tokens) span three shards
    lineage = plan.lineage(pa.table({"sample_id": [str(i) for i in range(60)], "source": ["general"] * 60,
                                     "item_id": [str(i) for i in range(60)]}), "v")
    assert list(zip(lineage["packed_shard"].to_pylist(), lineage["packed_sequence"].to_pylist(),
                    lineage["token_offset"].to_pylist(), strict=True)) == starts
    assert lineage["parquet_shard"].to_pylist()[6:8] == ["data/train-00000-of-00009.parquet",
                                                         "data/train-00001-of-00009.parquet"]
    assert lineage["parquet_row"].to_pylist()[6:8] == [6, 0]


def test_a_packed_task_refuses_samples_that_tokenize_otherwise_than_planned() -> None:
    task = ShardTask("packed", 0, "packed/shard-00000.bin", 0, 2, skip=0, length=8, span=7, sequences=1)
    assert len(packed_shard(task, [[5, 6], [7, 8, 9]], 1, np.dtype(np.uint16))) == 16  # padded with EOS
    with pytest.raises(RuntimeError, match="tokenize to 8 tokens, the plan counted 7"):
        packed_shard(task, [[5, 6], [7, 8, 9, 10]], 1, np.dtype(np.uint16))


def _mixture_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` samples of the test vocabulary: QA items and documents of 1 to 60 words."""
    rnd, base = random.Random(seed), _selection()
    rows = []
    for k in range(count):
        row = dict(rnd.choice(base)) | {"item_id": f"s{k}"}
        row["sample_id"] = f"{row['source']}:s{k}"
        if row["source"] == "general":
            row["text"] = " ".join(rnd.choice(WORDS[2:]) for _ in range(rnd.randint(1, 60)))
        rows.append(row)
    return rows


def _split(table: pa.Table, rnd: random.Random) -> list[pa.Table]:
    """The table in blocks of random sizes, in random order (as workers may finish them)."""
    cuts = sorted(rnd.sample(range(1, table.num_rows), 5))
    blocks = [table.slice(a, b - a) for a, b in zip([0, *cuts], [*cuts, table.num_rows], strict=True)]
    rnd.shuffle(blocks)
    return blocks


@pytest.mark.parametrize("seed", range(3))
def test_the_ray_path_steps_write_the_in_process_bytes_however_the_work_is_split(
        tmp_path: Path, tokenizer_dir: Path, seed: int) -> None:  # noqa: F811
    rows, rnd = _mixture_rows(120, seed), random.Random(seed)
    tokenizer = load_target_tokenizer(tokenizer_dir)
    sizes = {"seq_len": 16, "rows_per_shard": 17, "sequences_per_shard": 4}
    expected = MemoryStore()
    export_mixture(expected, rows, "v1", tokenizer, tmp_path / "here", **sizes)

    # The selection as dbt writes it, but with gaps in sample_order and rows out of order: positions come from
    # the order's rank, not from where a row sits in the file.
    orders = sorted(rnd.sample(range(1, 10_000), len(rows)))
    selection = [r | {"sample_order": o} for r, o in zip(rows, orders, strict=True)]
    rnd.shuffle(selection)
    path = str(tmp_path / "selection.parquet")
    pq.write_table(pa.Table.from_pylist(selection), path, row_group_size=25)
    fs = pafs.LocalFileSystem()
    columns = selection_columns(fs, path)
    counted = [count_samples(block.to_pylist(), tokenizer) for block in _split(pq.read_table(path), rnd)]
    samples = checked(in_position_order(counted), tokenizer)
    plan = ExportPlan(samples.column("tokens").to_numpy(), sizes["rows_per_shard"], sizes["seq_len"],
                      sizes["sequences_per_shard"])
    tasks = task_rows(plan, samples)
    rnd.shuffle(tasks)
    store = MemoryStore()
    written = [write_task(task, read_positions(fs, path, task, columns), tokenizer, "v1", store) for task in tasks]
    finish_export(store, "v1", plan, samples, written, tokenizer)

    assert len([k for k in store.objects if "/packed/" in k]) > 3 and len(written) > 10  # several of each
    assert store.objects == expected.objects  # every shard, the lineage (both copies), the card, the manifest


def test_an_export_refuses_a_selection_counted_with_another_tokenizer(tokenizer_dir: Path) -> None:  # noqa: F811
    tokenizer = load_target_tokenizer(tokenizer_dir)
    rows = _selection()
    samples = count_samples(rows, tokenizer)
    agreeing = [r | {"tokens": t} for r, t in zip(rows, samples.column("tokens").to_pylist(), strict=True)]
    checked(count_samples(agreeing, tokenizer), tokenizer)
    agreeing[2]["tokens"] += 1
    with pytest.raises(ConfigError, match="1 of 4 samples have other token counts"):
        checked(count_samples(agreeing, tokenizer), tokenizer)


def test_the_tokenizer_works_from_its_definition_alone(tokenizer_dir: Path) -> None:  # noqa: F811
    """A Ray worker on another node has no model folder: the definition the driver shipped is enough."""
    tokenizer = load_target_tokenizer(tokenizer_dir)
    elsewhere = TargetTokenizer(path=Path("/nonexistent/tokenizer.json"), eos_token_id=tokenizer.eos_token_id,
                                vocab_size=tokenizer.vocab_size, sha256="other", definition=tokenizer.definition)
    assert elsewhere.encode_batch(["the sky is blue ."]) == tokenizer.encode_batch(["the sky is blue ."])
