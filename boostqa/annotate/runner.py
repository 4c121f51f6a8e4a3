"""Annotate one shard of a run's frozen work list: annotations, quarantine and ledger parquet, then its marker."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from pydantic import BaseModel, Field

from boostqa.annotate.task import STAGE, AnnotationTask
from boostqa.annotate.worklist import load_frozen, shard_seeds
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import write_rows
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import ANNOTATION_SCHEMA, LEDGER_SCHEMA, LLM_QUARANTINE_SCHEMA
from boostqa.llm.budget import BudgetExhausted
from boostqa.llm.client import LlmClient
from boostqa.llm.ledger import Ledger
from boostqa.llm.progress import Progress
from boostqa.schemas import AnnotationRecord, LlmQuarantineRecord

log = logging.getLogger(__name__)


class AnnotateShardResult(BaseModel):
    """Small, XCom-friendly summary of one shard as this attempt left it."""

    run_id: str
    shard: int
    seeds: int
    skipped: bool = False  # finished by an earlier attempt or DAG run: nothing done, nothing counted
    annotated: int = 0
    quarantined: int = 0
    quarantined_by_reason: dict[str, int] = Field(default_factory=dict)
    llm_calls: int = 0
    cache_hits: int = 0
    stopped_at_cap: str | None = None  # the spend guard's refusal: the shard stays unfinished (no marker)


def _write_shard(store: ObjectStore, run_id: str, shard: int, records: list[AnnotationRecord | LlmQuarantineRecord],
                 ledger: Ledger) -> tuple[int, Counter[str]]:
    annotations = [r.model_dump() for r in records if isinstance(r, AnnotationRecord)]
    rejected = [r for r in records if isinstance(r, LlmQuarantineRecord)]
    name = layout.part_name(shard)
    prefix = layout.annotations_prefix(run_id)
    write_rows(store, prefix + name, annotations, ANNOTATION_SCHEMA)
    write_rows(store, layout.stage_quarantine_prefix(STAGE, run_id) + name, [r.model_dump() for r in rejected],
               LLM_QUARANTINE_SCHEMA)
    write_rows(store, layout.ledger_prefix(STAGE, run_id) + name, [r.model_dump() for r in ledger.rows], LEDGER_SCHEMA)
    commit_shard(store, prefix, shard)  # last: the shard's parts in every table become visible
    return len(annotations), Counter(r.reason for r in rejected)


def annotate_shard(store: ObjectStore, run_id: str, shard: int, task: AnnotationTask, client: LlmClient
                   ) -> AnnotateShardResult:
    """Annotate one frozen shard unless its marker exists; its calls replay from the cache after a crash.

    A shard the spend guard cuts off writes nothing and gets no marker: its seeds go to the next run's work list
    (or this run's resume), and the calls it made replay from the cache for free.

    Raises:
        ConfigError: ``task`` has another prompt version or sample count than the run was frozen with.
        LakeError: the run was never frozen.
    """
    frozen = load_frozen(store, run_id)
    frozen.check(task.prompt_version, task.samples)
    seeds = shard_seeds(store, frozen, shard)
    if store.get_bytes_or_none(layout.shard_marker(layout.annotations_prefix(run_id), shard)) is not None:
        log.info("annotate %s shard %d is complete: skipped", run_id, shard)
        return AnnotateShardResult(run_id=run_id, shard=shard, seeds=len(seeds), skipped=True)
    client.ledger = Ledger()
    progress = Progress(f"annotate {run_id}/{shard}", len(seeds) * task.samples)
    requests = [request for seed in seeds for request in task.build_requests(seed)]
    try:
        outcomes = asyncio.run(client.run_batch(requests, task.output_model, on_done=progress.advance))
    except BudgetExhausted as exc:
        log.warning("annotate %s shard %d stopped at its spend cap: %s", run_id, shard, exc)
        return AnnotateShardResult(run_id=run_id, shard=shard, seeds=len(seeds), stopped_at_cap=str(exc))
    sample_indexes = [i % task.samples for i in range(len(outcomes))]  # requests are seed-major
    records = [task.parse(o, run_id, k) for o, k in zip(outcomes, sample_indexes, strict=True)]
    annotated, reasons = _write_shard(store, run_id, shard, records, client.ledger)
    calls, hits = client.ledger.calls(), sum(r.cache_hit for r in client.ledger.rows)
    log.info("annotate %s shard %d: %d seeds -> %d annotated, %d quarantined, %d LLM calls, %d cache hits", run_id,
             shard, len(seeds), annotated, reasons.total(), calls, hits)
    return AnnotateShardResult(run_id=run_id, shard=shard, seeds=len(seeds), annotated=annotated,
                               quarantined=reasons.total(), quarantined_by_reason=dict(sorted(reasons.items())),
                               llm_calls=calls, cache_hits=hits)
