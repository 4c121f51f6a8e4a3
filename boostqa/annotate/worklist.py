"""An annotate run's frozen work list: the pending seeds and their shard boundaries, written once per run id."""

from __future__ import annotations

import io
import logging

import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.task import STAGE, SeedToAnnotate
from boostqa.errors import ConfigError, LakeError
from boostqa.ingest.committed import read_committed_seeds
from boostqa.lake import layout
from boostqa.lake.commits import read_committed_shards
from boostqa.lake.parquet import write_rows
from boostqa.lake.read import read_object
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import WORKLIST_SCHEMA

log = logging.getLogger(__name__)


class FrozenShards(BaseModel):
    """The shards of one run: ``bounds[i]`` is shard i's ``[start, stop)`` in the frozen seed list.

    The prompt version and samples are kept with them: a shard's outputs must not depend on when it ran.
    """

    run_id: str
    prompt_version: str
    samples: int
    seeds: int
    shard_size: int
    bounds: list[tuple[int, int]]

    def shard_ids(self) -> list[int]:
        """The shard numbers to map over."""
        return list(range(len(self.bounds)))

    def check(self, prompt_version: str, samples: int) -> None:
        """Refuse to continue the run with another prompt version or sample count than it was frozen with.

        Raises:
            ConfigError: they differ (a retry would not help; start a new run instead).
        """
        if (prompt_version, samples) != (self.prompt_version, self.samples):
            raise ConfigError(f"annotate run {self.run_id} was frozen with prompt_version={self.prompt_version}, "
                              f"samples={self.samples}; it cannot continue with prompt_version={prompt_version}, "
                              f"samples={samples}: resume it with its own values or start a new run")


def _ids_done_elsewhere(store: ObjectStore, run_id: str, prompt_version: str) -> set[str]:
    done: set[str] = set()
    for prefix in (f"{layout.ANNOTATIONS}/", layout.stage_quarantine_root(STAGE)):
        table = read_committed_shards(store, prefix, layout.ANNOTATIONS, ["item_id", "run_id", "prompt_version"])
        if table is not None:
            keep = pc.and_(pc.not_equal(table["run_id"], run_id), pc.equal(table["prompt_version"], prompt_version))
            done.update(table.filter(keep)["item_id"].to_pylist())
    return done


def seeds_to_annotate(store: ObjectStore, run_id: str, prompt_version: str, limit: int | None = None
                      ) -> list[SeedToAnnotate]:
    """The run's work list: distinct seeds not yet annotated (or quarantined) by another run with this prompt version.

    Frozen at the run's first call (``annotate/worklists/run_id=<id>/seeds.parquet``): a resumed or retried run
    rebuilds the same shards from it and skips finished ones, even if seeds arrived or other runs finished since.
    """
    key = layout.annotation_worklist(run_id)
    frozen = store.get_bytes_or_none(key)
    if frozen is not None:
        rows = pq.read_table(io.BytesIO(frozen)).to_pylist()
        log.info("annotate %s resumes on its frozen work list of %d seeds", run_id, len(rows))
        return [SeedToAnnotate.model_validate(row) for row in rows]
    raw = read_committed_seeds(store, ["seed_id", "question", "options", "language"])  # committed partitions only
    done = _ids_done_elsewhere(store, run_id, prompt_version) if raw is not None else set()
    seen: dict[str, SeedToAnnotate] = {}
    for row in raw.to_pylist() if raw is not None else []:
        if row["seed_id"] not in done and row["seed_id"] not in seen:
            seen[row["seed_id"]] = SeedToAnnotate.model_validate(row)
    pending = [seen[k] for k in sorted(seen)]
    pending = pending[:limit] if limit is not None else pending
    write_rows(store, key, [s.model_dump() for s in pending], WORKLIST_SCHEMA)
    return pending


def freeze_worklist(store: ObjectStore, run_id: str, config: AnnotateRunConfig) -> FrozenShards:
    """Freeze the run's seeds, then its shards (``shards.json`` last); a run already frozen keeps both as they are.

    ``limit`` and ``shard_size`` only apply when the run is first frozen; a resume with other values logs them and
    keeps the frozen shards.

    Raises:
        ConfigError: the run was frozen with another prompt version or sample count.
    """
    existing = store.get_bytes_or_none(layout.annotation_shards(run_id))
    if existing is not None:
        frozen = FrozenShards.model_validate_json(existing)
        frozen.check(config.prompt_version, config.samples)
        if config.shard_size != frozen.shard_size:
            log.info("annotate %s keeps its frozen shards of %d (shard_size=%d ignored)", run_id, frozen.shard_size,
                     config.shard_size)
        log.info("annotate %s resumes on its %d frozen shards (%d seeds)", run_id, len(frozen.bounds), frozen.seeds)
        return frozen
    # A run frozen before shard lists existed (seeds.parquet only) gets its shards here, from this run's shard_size,
    # which is what it would have used: no shard of it can have finished under other boundaries.
    seeds = len(seeds_to_annotate(store, run_id, config.prompt_version, config.limit))
    size = config.shard_size
    frozen = FrozenShards(run_id=run_id, prompt_version=config.prompt_version, samples=config.samples, seeds=seeds,
                          shard_size=size, bounds=[(i, min(i + size, seeds)) for i in range(0, seeds, size)])
    store.put_bytes(layout.annotation_shards(run_id), frozen.model_dump_json(indent=1).encode(), "application/json")
    log.info("annotate %s frozen: %d seeds in %d shards of %d", run_id, seeds, len(frozen.bounds), size)
    return frozen


def load_frozen(store: ObjectStore, run_id: str) -> FrozenShards:
    """The run's frozen shards.

    Raises:
        LakeError: the run was never frozen (its first task has not run).
    """
    data = store.get_bytes_or_none(layout.annotation_shards(run_id))
    if data is None:
        raise LakeError(f"annotate run {run_id} has no frozen shards at "
                        f"{store.config.uri(layout.annotation_shards(run_id))}: freeze its work list first")
    return FrozenShards.model_validate_json(data)


def shard_seeds(store: ObjectStore, frozen: FrozenShards, shard: int) -> list[SeedToAnnotate]:
    """The seeds of one shard, sliced from the run's frozen work list by its frozen boundaries.

    Raises:
        ConfigError: the run has no such shard.
    """
    if not 0 <= shard < len(frozen.bounds):
        raise ConfigError(f"annotate run {frozen.run_id} has shards 0..{len(frozen.bounds) - 1}, not {shard}")
    start, stop = frozen.bounds[shard]
    table = read_object(store, layout.annotation_worklist(frozen.run_id)).slice(start, stop - start)
    return [SeedToAnnotate.model_validate(row) for row in table.to_pylist()]


def unfinished_shards(store: ObjectStore, frozen: FrozenShards) -> list[int]:
    """The run's shards that have no completion marker yet."""
    prefix = layout.annotations_prefix(frozen.run_id)
    keys = set(store.list_keys(prefix))
    return [shard for shard in frozen.shard_ids() if layout.shard_marker(prefix, shard) not in keys]


def open_seeds(store: ObjectStore, frozen: FrozenShards) -> int:
    """Seeds in the run's unfinished shards: what a resumed run still has to pay for."""
    return sum(frozen.bounds[shard][1] - frozen.bounds[shard][0] for shard in unfinished_shards(store, frozen))
