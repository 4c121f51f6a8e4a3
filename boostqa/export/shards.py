"""Where each sample of a mixture lands, as a pure function of its position, and the bytes of every output shard.

A sample's position (its rank in ``sample_order``) fixes its parquet shard and row; the token counts of the samples
before it fix where its tokens start in the packed stream, hence its packed shard, sequence and offset. So the
driver plans every shard from per-sample token counts alone, and any process can write any shard from the
selection rows it covers: the bytes are the same whichever process, and however many, wrote them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from boostqa.errors import ConfigError
from boostqa.export.packing import TargetTokenizer, packed_dtype
from boostqa.export.text import training_text
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import LINEAGE_SCHEMA

# The exported parquet shards (HF datasets-compatible): the training text plus the sample's ids and bucket.
PARQUET_SCHEMA = pa.schema([
    ("text", pa.string()), ("source", pa.string()), ("sample_id", pa.string()), ("item_id", pa.string()),
    ("strategy", pa.string()), ("discipline_id", pa.string()), ("difficulty", pa.int64()), ("language", pa.string()),
    ("synthesis_run_id", pa.string()), ("mixture_version", pa.string()),
])
# What the driver keeps per sample: ids, bucket columns and tokens (never the text or the token ids). ``selected``
# is the token count dbt selected the sample with (null where the selection has none).
SAMPLES_SCHEMA = pa.schema([
    ("sample_order", pa.int64()), ("sample_id", pa.string()), ("source", pa.string()), ("item_id", pa.string()),
    ("synthesis_run_id", pa.string()), ("strategy", pa.string()), ("discipline_id", pa.string()),
    ("difficulty", pa.int64()), ("tokens", pa.int64()), ("selected", pa.int64()),
])
# The selection columns a shard writer reads: what training_text formats and what the parquet shards carry.
TEXT_COLUMNS = ("sample_order", "sample_id", "source", "item_id", "synthesis_run_id", "strategy", "discipline_id",
                "difficulty", "language", "question", "options", "refined_answer", "refined_option", "text")


def count_samples(rows: Sequence[Mapping[str, Any]], tokenizer: TargetTokenizer,
                  orders: Sequence[int] | None = None) -> pa.Table:
    """The per-sample table of selection rows: ids, bucket, and tokens with the target tokenizer (EOS included).

    ``orders`` replaces the rows' ``sample_order`` (the in-process export numbers its rows by list position).
    """
    tokens = tokenizer.token_counts(training_text(r) for r in rows)
    columns = {name: [r.get(name) for r in rows] for name in SAMPLES_SCHEMA.names[:-2]}
    if orders is not None:
        columns["sample_order"] = list(orders)
    return pa.table({**columns, "tokens": tokens, "selected": [r.get("tokens") for r in rows]}, schema=SAMPLES_SCHEMA)


def checked(samples: pa.Table, tokenizer: TargetTokenizer) -> pa.Table:
    """The samples, once their tokens agree with the counts dbt selected them by (where the selection has counts).

    Raises:
        ConfigError: the selection's mixing ratio was counted with another tokenizer than this export's.
    """
    selected, tokens = samples.column("selected"), samples.column("tokens")
    differ = pc.sum(pc.fill_null(pc.not_equal(selected, tokens), False).cast(pa.int64())).as_py() or 0
    if differ:
        raise ConfigError(f"{differ} of {samples.num_rows} samples have other token counts with {tokenizer.path} "
                          f"(sha256 {tokenizer.sha256[:12]}) than the selection's: its general-corpus budget was "
                          "counted with another tokenizer; count and export with the same tokenizer_dir")
    return samples


def in_position_order(parts: Iterable[pa.Table]) -> pa.Table:
    """Per-sample parts from any number of workers, in any order, as one table in ``sample_order``."""
    tables = list(parts)
    whole = pa.concat_tables(tables) if tables else SAMPLES_SCHEMA.empty_table()
    return whole.sort_by("sample_order").combine_chunks()


@dataclass(frozen=True)
class ShardTask:
    """One output file and the samples it covers: positions ``first`` to ``stop`` (exclusive).

    A packed shard holds ``length`` tokens of the stream that the samples' ids and EOS tokens make, starting
    ``skip`` tokens into the first sample (which may have begun in the shard before); ``span`` is the tokens those
    samples hold together, checked against what the writer's tokenizer gives; ``sequences`` is ``length`` in
    sequences.
    """

    kind: Literal["parquet", "packed"]
    index: int
    path: str
    first: int
    stop: int
    skip: int = 0
    length: int = 0
    span: int = 0
    sequences: int = 0

    def as_row(self) -> dict[str, Any]:
        """The task as a plain row (what travels to a Ray Data worker)."""
        return asdict(self)


class ExportPlan:
    """Every shard of a mixture and where every sample lands, from the samples' token counts in position order."""

    def __init__(self, tokens: np.ndarray, rows_per_shard: int, seq_len: int, sequences_per_shard: int) -> None:
        self.tokens = np.asarray(tokens, dtype=np.int64)
        self.rows_per_shard, self.seq_len, self.sequences_per_shard = rows_per_shard, seq_len, sequences_per_shard
        self.starts = np.concatenate([[0], np.cumsum(self.tokens)[:-1]]).astype(np.int64) if len(self.tokens) \
            else np.zeros(0, dtype=np.int64)
        self.total_tokens = int(self.tokens.sum())
        self.samples = len(self.tokens)
        self.parquet_shards = max(1, -(-self.samples // rows_per_shard))  # an empty mixture still has one file
        self.sequences = -(-self.total_tokens // seq_len)
        self.packed_shards = -(-self.sequences // sequences_per_shard)

    def parquet_path(self, index: int) -> str:
        """The name of the index-th parquet shard (HF's ``train-i-of-n`` pattern)."""
        return f"data/train-{index:05d}-of-{self.parquet_shards:05d}.parquet"

    def tasks(self) -> list[ShardTask]:
        """Every parquet shard, then every packed shard."""
        parquet = [ShardTask("parquet", i, self.parquet_path(i), i * self.rows_per_shard,
                             min((i + 1) * self.rows_per_shard, self.samples)) for i in range(self.parquet_shards)]
        return parquet + [self._packed(k) for k in range(self.packed_shards)]

    def _packed(self, index: int) -> ShardTask:
        per_shard = self.sequences_per_shard * self.seq_len
        low, high = index * per_shard, min((index + 1) * per_shard, self.sequences * self.seq_len)
        first = int(np.searchsorted(self.starts, low, side="right")) - 1  # the sample holding token `low`
        stop = int(np.searchsorted(self.starts, high, side="left"))  # samples that start before `high`
        span = int(self.starts[stop - 1] + self.tokens[stop - 1] - self.starts[first])
        return ShardTask("packed", index, f"packed/shard-{index:05d}.bin", first, stop,
                         skip=int(low - self.starts[first]), length=high - low, span=span,
                         sequences=(high - low) // self.seq_len)

    def lineage(self, samples: pa.Table, mixture_version: str) -> pa.Table:
        """One row per sample: its parquet shard and row, and the packed shard, sequence and offset where it starts."""
        positions = np.arange(self.samples, dtype=np.int64)
        paths = pa.array([self.parquet_path(i) for i in range(self.parquet_shards)], pa.string())
        sequence = self.starts // self.seq_len
        return pa.table({
            "mixture_version": pa.repeat(pa.scalar(mixture_version, pa.string()), self.samples),
            "sample_id": samples.column("sample_id"), "source": samples.column("source"),
            "item_id": samples.column("item_id"),
            "parquet_shard": paths.take(pa.array(positions // self.rows_per_shard)),
            "parquet_row": positions % self.rows_per_shard,
            "packed_shard": (sequence // self.sequences_per_shard).astype(np.int32),
            "packed_sequence": sequence % self.sequences_per_shard,
            "token_offset": (self.starts % self.seq_len).astype(np.int32),
            "tokens": self.tokens.astype(np.int32),
        }, schema=LINEAGE_SCHEMA)


@dataclass(frozen=True)
class WrittenShard:
    """One written file as the manifest lists it."""

    kind: Literal["parquet", "packed"]
    index: int
    path: str
    count: int  # rows (parquet) or sequences (packed)
    tokens: int
    sha256: str

    def manifest_entry(self) -> dict[str, Any]:
        """The manifest's entry: ``path, rows, sha256`` for parquet; ``path, sequences, tokens, sha256`` for packed."""
        if self.kind == "parquet":
            return {"path": self.path, "rows": self.count, "sha256": self.sha256}
        return {"path": self.path, "sequences": self.count, "tokens": self.tokens, "sha256": self.sha256}


def parquet_shard(rows: Sequence[Mapping[str, Any]], mixture_version: str) -> bytes:
    """A parquet shard of selection rows (in position order): the training text, ids, bucket and version."""
    table = pa.Table.from_pylist(
        [{name: row.get(name) for name in PARQUET_SCHEMA.names} | {"text": training_text(row),
                                                                     "mixture_version": mixture_version}
         for row in rows], schema=PARQUET_SCHEMA)
    return parquet_bytes(table)


def packed_shard(task: ShardTask, token_ids: Iterable[list[int]], eos_token_id: int, dtype: np.dtype) -> bytes:
    """A packed shard: the samples' ids, each followed by EOS, cut to the task's window; the stream's end padded.

    Raises:
        RuntimeError: the samples' tokens differ from the plan's (the tokenizer changed between the passes).
    """
    pieces = [np.append(np.asarray(ids, dtype=np.int64), eos_token_id) for ids in token_ids]
    stream = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    if len(stream) != task.span:
        raise RuntimeError(f"{task.path}: its samples tokenize to {len(stream)} tokens, the plan counted {task.span}")
    window = stream[task.skip : task.skip + task.length]
    padded = np.concatenate([window, np.full(task.length - len(window), eos_token_id, dtype=np.int64)])
    return padded.astype(dtype).tobytes()


def write_shard(task: ShardTask, rows: Sequence[Mapping[str, Any]], tokenizer: TargetTokenizer,
                mixture_version: str) -> tuple[bytes, WrittenShard]:
    """The bytes of one shard from the selection rows of its positions, in order, and its manifest entry."""
    if len(rows) != task.stop - task.first:
        raise RuntimeError(f"{task.path}: got {len(rows)} selection rows for positions {task.first}-{task.stop}")
    if task.kind == "parquet":
        data, count, tokens = parquet_shard(rows, mixture_version), len(rows), 0
    else:
        ids = tokenizer.encode_batch([training_text(r) for r in rows])
        data = packed_shard(task, ids, tokenizer.eos_token_id, packed_dtype(tokenizer.vocab_size))
        count, tokens = task.sequences, task.length
    return data, WrittenShard(task.kind, task.index, task.path, count, tokens, hashlib.sha256(data).hexdigest())
