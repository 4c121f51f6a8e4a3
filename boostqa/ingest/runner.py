"""Ingest one seed source for one logical date: fetch, validate, write raw parquet + quarantine + manifest."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from datetime import date

from pydantic import BaseModel

from boostqa.errors import SourceError
from boostqa.ingest.config import SourceConfig
from boostqa.ingest.fetch import SourceBlob, fetch_source
from boostqa.ingest.readers import RawRow, read_rows
from boostqa.ingest.tables import quarantine_table, seeds_table
from boostqa.ingest.validate import INGEST_STAGE, validate_row
from boostqa.lake import layout
from boostqa.lake.parquet import replace_parts
from boostqa.lake.store import ObjectStore
from boostqa.qc.decontaminate import Decontaminator, default_decontaminator
from boostqa.qc.text import item_text
from boostqa.schemas import IngestManifest, QuarantineRecord, SeedRecord
from boostqa.vocabulary import QuarantineReason

log = logging.getLogger(__name__)
PROGRESS_EVERY = 10_000


class IngestResult(BaseModel):
    """Small, XCom-friendly summary of one source's ingest."""

    source: str
    ingest_date: date
    run_id: str
    rows_read: int
    rows_valid: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int]
    manifest_uri: str
    seeds_prefix_uri: str


def _as_rejected(record: SeedRecord, reason: QuarantineReason, detail: str, row: RawRow) -> QuarantineRecord:
    return QuarantineRecord(
        run_id=record.run_id,
        stage=INGEST_STAGE,
        source=record.source,
        ingest_date=record.ingest_date,
        row_number=record.row_number,
        source_row_id=record.source_row_id,
        reason=reason,
        detail=detail,
        raw_record=row.raw_text,
        source_file=row.file,
        source_line=row.line,
    )


def _source_sha256(blobs: list[SourceBlob]) -> str:
    digest = hashlib.sha256()
    for blob in blobs:
        digest.update(hashlib.sha256(blob.data).digest())
    return digest.hexdigest()


def _refuse_empty(store: ObjectStore, source: SourceConfig, ingest_date: date, blobs: list[SourceBlob]) -> None:
    """A source that read no row at all, where its last ingest (this date's, else the newest before) had rows.

    Raises:
        SourceError: so, before anything is deleted: an empty or cut-off download must not replace good parts.
    """
    previous = _last_manifest(store, source.name, ingest_date)
    if previous is None or previous.rows_read == 0:
        return
    files = ", ".join(f"{b.name} ({len(b.data)} bytes)" for b in blobs) or "no file"
    raise SourceError(
        f"source {source.name!r} yielded 0 rows for {ingest_date} ({files}), but its ingest of "
        f"{previous.ingest_date} read {previous.rows_read}: nothing was written or deleted. Check the source; if it "
        "is really empty now, set allow_empty: true for it in the seed sources file")


def _last_manifest(store: ObjectStore, source: str, ingest_date: date) -> IngestManifest | None:
    """This date's manifest of the source, else the newest of an earlier date (None for a new source)."""
    prefix = layout.raw_seed_prefix(source, ingest_date).rsplit("ingest_date=", 1)[0]
    keys = [k for k in store.list_keys(prefix) if k.endswith(layout.MANIFEST_NAME)]
    own = layout.seeds_manifest_key(source, ingest_date)
    earlier = sorted(k for k in keys if k < own)
    for key in ([own] if own in keys else []) + earlier[-1:]:
        data = store.get_bytes_or_none(key)
        if data is not None:
            return IngestManifest.model_validate_json(data)
    return None


def split_rows(
    source: SourceConfig, blobs: list[SourceBlob], ingest_date: date, run_id: str,
    decontaminator: Decontaminator | None = None,
) -> tuple[list[SeedRecord], list[QuarantineRecord]]:
    """Validate every row; the first occurrence of a source row id or of a content hash wins.

    With a ``decontaminator``, a seed overlapping a benchmark item is quarantined too.
    """
    seeds: list[SeedRecord] = []
    quarantined: list[QuarantineRecord] = []
    ids_seen: dict[str, int] = {}
    content_seen: dict[str, int] = {}
    started = time.monotonic()
    for row in read_rows(source, blobs):
        result = validate_row(row, source, ingest_date, run_id)
        if isinstance(result, SeedRecord):
            if result.source_row_id in ids_seen:
                detail = f"source row id {result.source_row_id!r} already used by row {ids_seen[result.source_row_id]}"
                result = _as_rejected(result, QuarantineReason.DUPLICATE_SOURCE_ROW_ID, detail, row)
            elif result.seed_id in content_seen:
                detail = f"same content as row {content_seen[result.seed_id]} (seed_id {result.seed_id[:12]})"
                result = _as_rejected(result, QuarantineReason.DUPLICATE_CONTENT, detail, row)
            else:
                ids_seen[result.source_row_id] = row.row_number
                content_seen[result.seed_id] = row.row_number
                hit = decontaminator.find(item_text(result.question, result.options, result.answer)) \
                    if decontaminator is not None else None
                if hit is not None:
                    detail = f"overlaps benchmark item {hit.benchmark_item_id}: {hit.ngram!r}"
                    result = _as_rejected(result, QuarantineReason.BENCHMARK_CONTAMINATED, detail, row)
        if isinstance(result, SeedRecord):
            seeds.append(result)
        else:
            quarantined.append(result)
        if (row.row_number + 1) % PROGRESS_EVERY == 0:
            rate = (row.row_number + 1) / max(time.monotonic() - started, 1e-9)
            log.info("%s: %d rows validated (%.0f rows/s), %d quarantined", source.name, row.row_number + 1, rate,
                     len(quarantined))
    return seeds, quarantined


def ingest_source(
    source: SourceConfig, ingest_date: date, store: ObjectStore, rows_per_part: int = 100_000,
    decontaminator: Decontaminator | None = None,
) -> IngestResult:
    """Ingest one source for one date; rerunning the same date rewrites the same objects and nothing else.

    Seeds are decontaminated against the local benchmark editions unless another ``decontaminator`` is given (the
    seed_ingest DAG's ``benchmark_source`` param picks one: ``decontaminator_for``).
    """
    run_id = layout.ingest_run_id(ingest_date)
    blobs = [] if source.kind == "hf" else fetch_source(source, store)
    seeds, quarantined = split_rows(source, blobs, ingest_date, run_id, decontaminator or default_decontaminator())
    reasons = dict(sorted(Counter(q.reason.value for q in quarantined).items()))
    manifest_key = layout.seeds_manifest_key(source.name, ingest_date)
    if not seeds and not quarantined and not source.allow_empty:
        _refuse_empty(store, source, ingest_date, blobs)

    # Remove the completion marker first: a crash below leaves the partition visibly incomplete.
    store.delete_keys([manifest_key])
    parts = replace_parts(store, layout.raw_seed_prefix(source.name, ingest_date), seeds_table(seeds), rows_per_part)
    q_prefix = layout.quarantine_prefix(INGEST_STAGE, run_id, source.name)
    q_parts = replace_parts(store, q_prefix, quarantine_table(quarantined), rows_per_part)
    manifest = IngestManifest(
        source=source.name,
        ingest_date=ingest_date,
        run_id=run_id,
        location=source.location,
        source_sha256=_source_sha256(blobs),
        config_sha256=source.fingerprint(),
        rows_read=len(seeds) + len(quarantined),
        rows_valid=len(seeds),
        rows_quarantined=len(quarantined),
        quarantine_reasons=reasons,
        parts=parts,
        quarantine_parts=q_parts,
    )
    store.put_bytes(manifest_key, manifest.model_dump_json(indent=2).encode(), content_type="application/json")
    log.info("%s: %d valid, %d quarantined %s -> %s", source.name, len(seeds), len(quarantined), reasons,
             store.config.uri(manifest_key))
    return IngestResult(
        source=source.name,
        ingest_date=ingest_date,
        run_id=run_id,
        rows_read=manifest.rows_read,
        rows_valid=len(seeds),
        rows_quarantined=len(quarantined),
        quarantine_reasons=reasons,
        manifest_uri=store.config.uri(manifest_key),
        seeds_prefix_uri=store.config.uri(layout.raw_seed_prefix(source.name, ingest_date)),
    )
