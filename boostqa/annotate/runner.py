"""Annotate pending seeds in resumable shards: annotations, quarantine and ledger parquet + a marker per shard."""

from __future__ import annotations

import asyncio
import io
import logging

import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel

from boostqa.annotate.task import STAGE, AnnotationTask, SeedToAnnotate
from boostqa.lake import layout
from boostqa.lake.parquet import write_rows
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import ANNOTATION_SCHEMA, LEDGER_SCHEMA, LLM_QUARANTINE_SCHEMA, WORKLIST_SCHEMA
from boostqa.llm.client import LlmClient
from boostqa.llm.ledger import Ledger
from boostqa.llm.progress import Progress
from boostqa.schemas import AnnotationRecord, LlmQuarantineRecord

log = logging.getLogger(__name__)



class AnnotateResult(BaseModel):
    """Small, XCom-friendly summary of one annotate run."""

    run_id: str
    pending: int
    shards: int
    shards_skipped: int
    annotated: int
    quarantined: int
    llm_calls: int
    cache_hits: int
    annotations_uri: str


def _ids_done_elsewhere(store: ObjectStore, run_id: str, prompt_version: str) -> set[str]:
    done: set[str] = set()
    for prefix in (f"{layout.ANNOTATIONS}/", layout.stage_quarantine_root(STAGE)):
        table = read_prefix(store, prefix, ["item_id", "run_id", "prompt_version"])
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
    raw = read_prefix(store, f"{layout.RAW_SEEDS}/", ["seed_id", "question", "options", "language"])
    done = _ids_done_elsewhere(store, run_id, prompt_version) if raw is not None else set()
    seen: dict[str, SeedToAnnotate] = {}
    for row in raw.to_pylist() if raw is not None else []:
        if row["seed_id"] not in done and row["seed_id"] not in seen:
            seen[row["seed_id"]] = SeedToAnnotate.model_validate(row)
    pending = [seen[k] for k in sorted(seen)]
    pending = pending[:limit] if limit is not None else pending
    write_rows(store, key, [s.model_dump() for s in pending], WORKLIST_SCHEMA)
    return pending


def _write_shard(store: ObjectStore, run_id: str, shard: int, records: list[AnnotationRecord | LlmQuarantineRecord],
                 ledger: Ledger) -> tuple[int, int]:
    annotations = [r.model_dump() for r in records if isinstance(r, AnnotationRecord)]
    rejected = [r.model_dump() for r in records if isinstance(r, LlmQuarantineRecord)]
    name = layout.part_name(shard)
    prefix = layout.annotations_prefix(run_id)
    write_rows(store, prefix + name, annotations, ANNOTATION_SCHEMA)
    write_rows(store, layout.stage_quarantine_prefix(STAGE, run_id) + name, rejected, LLM_QUARANTINE_SCHEMA)
    write_rows(store, layout.ledger_prefix(STAGE, run_id) + name, [r.model_dump() for r in ledger.rows], LEDGER_SCHEMA)
    store.put_bytes(layout.shard_marker(prefix, shard), b"")  # last: the shard is complete
    return len(annotations), len(rejected)


def annotate_seeds(seeds: list[SeedToAnnotate], task: AnnotationTask, client: LlmClient, store: ObjectStore,
                   run_id: str, shard_size: int = 64) -> AnnotateResult:
    """Annotate ``seeds`` shard by shard; finished shards (marker present) are skipped, so a rerun resumes."""
    shards = [seeds[i : i + shard_size] for i in range(0, len(seeds), shard_size)]
    progress = Progress(f"annotate {run_id}", len(seeds) * task.samples)
    annotated = quarantined = skipped = calls = hits = 0
    prefix = layout.annotations_prefix(run_id)
    for index, shard in enumerate(shards):
        if store.get_bytes_or_none(layout.shard_marker(prefix, index)) is not None:
            skipped += 1
            progress.advance(len(shard) * task.samples)
            continue
        client.ledger = Ledger()
        requests = [request for seed in shard for request in task.build_requests(seed)]
        outcomes = asyncio.run(client.run_batch(requests, task.output_model, on_done=progress.advance))
        sample_indexes = [i % task.samples for i in range(len(outcomes))]  # requests are seed-major
        records = [task.parse(o, run_id, k) for o, k in zip(outcomes, sample_indexes, strict=True)]
        good, bad = _write_shard(store, run_id, index, records, client.ledger)
        annotated, quarantined = annotated + good, quarantined + bad
        calls, hits = calls + client.ledger.calls(), hits + sum(r.cache_hit for r in client.ledger.rows)
    log.info("annotate %s: %d annotated, %d quarantined, %d shards skipped, %d LLM calls, %d cache hits",
             run_id, annotated, quarantined, skipped, calls, hits)
    return AnnotateResult(run_id=run_id, pending=len(seeds), shards=len(shards), shards_skipped=skipped,
                          annotated=annotated, quarantined=quarantined, llm_calls=calls, cache_hits=hits,
                          annotations_uri=store.config.uri(prefix))
