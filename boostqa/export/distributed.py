"""The mixture export as a Ray Data job: workers count tokens over the selection's blocks, then write its shards.

Two passes over the selection, never the whole mixture in one process. Pass one reads the selection in blocks and
counts each sample's tokens with the target tokenizer (one tokenizer per worker, built from the copy the driver put
in the object store); the driver keeps only the per-sample ids and counts, and plans every shard from them
(:class:`ExportPlan`: a pure function of position). Pass two gives each worker shard tasks: it reads the selection
rows of its shard (a ``sample_order`` range, so parquet row groups outside it are skipped), tokenizes them again and
writes the shard to the lake. Tokenizing twice costs CPU; keeping every token id for the second pass would cost
the object store the whole mixture. The driver then writes the lineage, the card and the manifest, as the
in-process export does (``finish_export``): the bytes are the same whichever path, and however many workers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, cast

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from boostqa.export.mixture import SELECTION_NAME, MixtureExportResult, finish_export, refuse_complete
from boostqa.export.packing import TargetTokenizer
from boostqa.export.shards import (
    TEXT_COLUMNS,
    ExportPlan,
    ShardTask,
    WrittenShard,
    checked,
    count_samples,
    in_position_order,
    write_shard,
)
from boostqa.lake import layout
from boostqa.lake.arrow_fs import arrow_filesystem, arrow_paths, parquet_rows
from boostqa.lake.store import LakeConfig, ObjectStore

log = logging.getLogger(__name__)
BATCH_ROWS = 1024  # samples per counting batch: the tokenizer's batch call amortizes over it
_TASK_FIELDS = {f.name for f in fields(ShardTask)}
_WRITTEN = pa.schema([("kind", pa.string()), ("index", pa.int64()), ("path", pa.string()), ("count", pa.int64()),
                      ("tokens", pa.int64()), ("sha256", pa.string()), ("node", pa.string())])


def shared(value: Any) -> Any:
    """A Ray worker's copy of a driver object: read from Ray's object store when the driver passed a reference."""
    import ray

    return ray.get(value) if isinstance(value, ray.ObjectRef) else value


def _node() -> str:
    import ray

    return str(ray.get_runtime_context().get_node_id())


def selection_columns(fs: pafs.FileSystem, path: str) -> list[str]:
    """The selection columns the export reads (``tokens``, dbt's count, only where the selection has it)."""
    with fs.open_input_file(path) as handle:
        names = set(pq.ParquetFile(handle).schema_arrow.names)
    return [c for c in (*TEXT_COLUMNS, "tokens") if c in names]


def selection_rows(store: ObjectStore, mixture_version: str) -> int:
    """How many samples a version's selection holds, from its parquet footer (a ranged read, no data).

    Raises:
        FileNotFoundError: dbt has not exported the selection.
    """
    return parquet_rows(store.config, [layout.mixture_prefix(mixture_version) + SELECTION_NAME])


def read_positions(fs: pafs.FileSystem, path: str, task: Mapping[str, Any], columns: list[str]) -> list[dict[str, Any]]:
    """The selection rows of a shard task, in ``sample_order``: the orders ``low`` to ``high`` the driver resolved."""
    if task["stop"] == task["first"]:
        return []
    table = pq.read_table(path, filesystem=fs, columns=columns,
                          filters=[("sample_order", ">=", task["low"]), ("sample_order", "<=", task["high"])])
    return cast(list[dict[str, Any]], table.sort_by("sample_order").to_pylist())


class CountTokens:
    """Ray Data's callable class for pass one: one tokenizer per worker."""

    def __init__(self, tokenizer: TargetTokenizer | Any) -> None:
        self.tokenizer: TargetTokenizer = shared(tokenizer)

    def __call__(self, batch: pa.Table) -> pa.Table:
        """The per-sample table of one block: ids, bucket, tokens and dbt's count."""
        return count_samples(batch.to_pylist(), self.tokenizer)


class WriteShards:
    """Ray Data's callable class for pass two: reads its tasks' selection rows, writes their shards to the lake."""

    def __init__(self, tokenizer: TargetTokenizer | Any, lake: LakeConfig, path: str, columns: list[str],
                 mixture_version: str) -> None:
        self.tokenizer: TargetTokenizer = shared(tokenizer)
        self.fs, self.store = arrow_filesystem(lake), ObjectStore(lake)
        self.path, self.columns, self.mixture_version = path, columns, mixture_version

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Write each task of the batch; one row per written shard (with the node that wrote it)."""
        node, rows = _node(), []
        for task in batch.to_pylist():
            shard = write_task(task, read_positions(self.fs, self.path, task, self.columns), self.tokenizer,
                               self.mixture_version, self.store)
            rows.append(asdict(shard) | {"node": node})
        return pa.Table.from_pylist(rows, schema=_WRITTEN)


def write_task(task: Mapping[str, Any], rows: list[dict[str, Any]], tokenizer: TargetTokenizer,
               mixture_version: str, store: ObjectStore) -> WrittenShard:
    """Write one planned shard to ``mixtures/<version>/`` from its selection rows; its manifest entry."""
    data, shard = write_shard(ShardTask(**{k: v for k, v in task.items() if k in _TASK_FIELDS}), rows, tokenizer,
                              mixture_version)
    store.put_bytes(layout.mixture_prefix(mixture_version) + shard.path, data)
    return shard


def task_rows(plan: ExportPlan, samples: pa.Table) -> list[dict[str, Any]]:
    """Every shard task with the ``sample_order`` range its positions cover (``low``, ``high``)."""
    orders = samples.column("sample_order").to_pylist()
    return [task.as_row() | ({"low": orders[task.first], "high": orders[task.stop - 1]} if task.stop > task.first
                             else {"low": 0, "high": -1}) for task in plan.tasks()]


def export_on_ray(store: ObjectStore, mixture_version: str, tokenizer: TargetTokenizer, seq_len: int = 512,
                  rows_per_shard: int = 50_000, sequences_per_shard: int = 4096) -> MixtureExportResult:
    """Export a version's selection with the connected Ray cluster's workers; the bytes of :func:`export_mixture`."""
    import ray

    refuse_complete(store, mixture_version)
    fs = arrow_filesystem(store.config)
    (path,) = arrow_paths(store.config, [layout.mixture_prefix(mixture_version) + SELECTION_NAME])
    columns = selection_columns(fs, path)
    ray.init(ignore_reinit_error=True, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]  # ray ships no annotations
    shared = ray.put(tokenizer)
    # Up to one worker per CPU of the cluster; Ray Data starts one and adds more while blocks wait.
    counted = ray.data.read_parquet([path], filesystem=fs, columns=columns).map_batches(
        CountTokens, fn_constructor_args=(shared,), batch_format="pyarrow", batch_size=BATCH_ROWS,
        concurrency=(1, max(1, cpus)), num_cpus=1)
    samples = checked(in_position_order(cast(pa.Table, b) for b in counted.iter_batches(batch_format="pyarrow",
                                                                                         batch_size=None)), tokenizer)
    plan = ExportPlan(samples.column("tokens").to_numpy(), rows_per_shard, seq_len, sequences_per_shard)
    tasks = task_rows(plan, samples)
    log.info("export %s: %d samples, %d tokens counted on Ray; %d shards to write", mixture_version, plan.samples,
             plan.total_tokens, len(tasks))
    workers = max(1, min(cpus, len(tasks)))
    # One task per batch, blocks of one task: every shard can go to its own worker.
    written = ray.data.from_items(tasks, override_num_blocks=len(tasks)).map_batches(
        WriteShards, fn_constructor_args=(shared, store.config, path, columns, mixture_version),
        batch_format="pyarrow", batch_size=1, concurrency=(1, workers), num_cpus=1)
    shards, nodes = [], set()
    for batch in written.iter_batches(batch_format="pyarrow", batch_size=None):
        for row in cast(pa.Table, batch).to_pylist():
            nodes.add(row.pop("node"))
            shards.append(WrittenShard(**row))
    log.info("export %s: %d shards written on Ray (up to %d workers, on %d node(s))", mixture_version, len(shards),
             workers, len(nodes))
    return finish_export(store, mixture_version, plan, samples, shards, tokenizer)
