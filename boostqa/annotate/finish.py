"""Finish an annotate run: check that every frozen shard has its marker, then write the run's summary marker."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence

import pyarrow as pa
from pydantic import BaseModel

from boostqa.annotate.runner import AnnotateShardResult
from boostqa.annotate.task import STAGE
from boostqa.annotate.worklist import FrozenShards, load_frozen, unfinished_shards
from boostqa.errors import RunIncomplete
from boostqa.lake import layout
from boostqa.lake.commits import read_committed_shards
from boostqa.lake.store import ObjectStore

log = logging.getLogger(__name__)


class AnnotateResult(BaseModel):
    """Small, XCom-friendly summary of what one DAG run of an annotate run did (its shards' results added up).

    Finished shards an earlier attempt or DAG run wrote count in ``shards_skipped`` only, as before the run was
    mapped over shards; the run's own totals are in its summary marker (:class:`AnnotateRunSummary`).
    """

    run_id: str
    pending: int
    shards: int
    shards_skipped: int
    annotated: int
    quarantined: int
    quarantined_by_reason: dict[str, int]
    llm_calls: int
    cache_hits: int
    annotations_uri: str


class AnnotateRunSummary(BaseModel):
    """The run's completion marker: its frozen shape and what its parts hold, however many DAG runs wrote them.

    Read back from the parts, so a rerun of a finished run writes the same bytes.
    """

    run_id: str
    prompt_version: str
    samples: int
    seeds: int
    shards: int
    shard_size: int
    annotated: int
    quarantined: int
    quarantined_by_reason: dict[str, int]
    llm_calls: int
    cache_hits: int


def _run_totals(store: ObjectStore, frozen: FrozenShards) -> AnnotateRunSummary:
    run_id = frozen.run_id
    def read(prefix: str, columns: list[str]) -> pa.Table | None:
        return read_committed_shards(store, prefix, layout.ANNOTATIONS, columns)

    labels = read(layout.annotations_prefix(run_id), ["item_id"])
    rejects = read(layout.stage_quarantine_prefix(STAGE, run_id), ["reason"])
    ledger = read(layout.ledger_prefix(STAGE, run_id), ["cache_hit"])
    reasons = Counter(rejects["reason"].to_pylist() if rejects is not None else [])
    hits = sum(ledger["cache_hit"].to_pylist()) if ledger is not None else 0
    return AnnotateRunSummary(
        run_id=run_id, prompt_version=frozen.prompt_version, samples=frozen.samples, seeds=frozen.seeds,
        shards=len(frozen.bounds), shard_size=frozen.shard_size, annotated=labels.num_rows if labels else 0,
        quarantined=reasons.total(), quarantined_by_reason=dict(sorted(reasons.items())),
        llm_calls=(ledger.num_rows if ledger is not None else 0) - hits, cache_hits=hits)


def finish_run(store: ObjectStore, run_id: str, shard_results: Sequence[AnnotateShardResult]) -> AnnotateResult:
    """Write the run's summary marker once every frozen shard has its marker; return this DAG run's counts.

    Raises:
        RunIncomplete: a shard has no marker (the spend guard stopped it, or it never ran); no marker is written.
        LakeError: the run was never frozen.
    """
    frozen = load_frozen(store, run_id)
    missing = unfinished_shards(store, frozen)
    if missing:
        capped = [r.shard for r in shard_results if r.stopped_at_cap]
        raise RunIncomplete(f"annotate {run_id}: {len(missing)} of {len(frozen.bounds)} shards unfinished "
                            f"({', '.join(map(str, missing[:20]))}{' ...' if len(missing) > 20 else ''}); "
                            f"{len(capped)} stopped at the spend cap. The run is not marked complete")
    summary = _run_totals(store, frozen)
    payload = json.dumps(summary.model_dump(), indent=1, sort_keys=True).encode()
    key = layout.annotation_run_marker(run_id)
    if store.get_bytes_or_none(key) != payload:  # a rerun of a finished run finds the same bytes: nothing to write
        store.put_bytes(key, payload, "application/json")
    reasons: Counter[str] = Counter()
    for shard in shard_results:
        reasons.update(shard.quarantined_by_reason)
    result = AnnotateResult(
        run_id=run_id, pending=frozen.seeds, shards=len(frozen.bounds),
        shards_skipped=sum(r.skipped for r in shard_results), annotated=sum(r.annotated for r in shard_results),
        quarantined=reasons.total(), quarantined_by_reason=dict(sorted(reasons.items())),
        llm_calls=sum(r.llm_calls for r in shard_results), cache_hits=sum(r.cache_hits for r in shard_results),
        annotations_uri=store.config.uri(layout.annotations_prefix(run_id)))
    log.info("annotate %s complete: %d annotated, %d quarantined %s, %d shards skipped, %d LLM calls, %d cache hits "
             "(run totals: %d annotated, %d quarantined)", run_id, result.annotated, result.quarantined,
             result.quarantined_by_reason, result.shards_skipped, result.llm_calls, result.cache_hits,
             summary.annotated, summary.quarantined)
    return result
