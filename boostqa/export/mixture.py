"""Export a training mixture: HF parquet shards + dataset card, packed token shards, lineage and a manifest."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from boostqa.errors import LakeError
from boostqa.export.card import dataset_card
from boostqa.export.packing import Packer, TargetTokenizer, batched
from boostqa.export.text import training_text
from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import LINEAGE_SCHEMA
from boostqa.lake.versions import write_pointer

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1  # training/data.py reads this version
SELECTION_NAME = "selection.parquet"  # what dbt's export_training_mixture writes beside the export
PARQUET_COLUMNS = ("text", "source", "sample_id", "item_id", "strategy", "discipline_id", "difficulty", "language",
                   "synthesis_run_id", "mixture_version")


class MixtureExportResult(BaseModel):
    """Small, XCom-friendly summary of an export."""

    mixture_version: str
    samples: int
    boostqa_samples: int
    general_samples: int
    tokens: int
    packed_sequences: int
    manifest_uri: str
    manifest_sha256: str
    local_dir: str


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_parquet_shards(out_dir: Path, rows: list[dict[str, Any]], rows_per_shard: int) -> list[dict[str, Any]]:
    count = max(1, -(-len(rows) // rows_per_shard))
    shards = []
    for index in range(count):
        chunk = rows[index * rows_per_shard : (index + 1) * rows_per_shard]
        name = f"data/train-{index:05d}-of-{count:05d}.parquet"
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist([{k: r[k] for k in PARQUET_COLUMNS} for r in chunk]), path,
                       compression="zstd")
        shards.append({"path": name, "rows": len(chunk), "sha256": _sha256(path)})
    return shards


def export_mixture(store: ObjectStore, selection: list[dict[str, Any]], mixture_version: str,
                   tokenizer: TargetTokenizer, out_dir: Path, seq_len: int = 512, rows_per_shard: int = 50_000,
                   sequences_per_shard: int = 4096) -> MixtureExportResult:
    """Write the mixture under ``out_dir`` and upload it to ``mixtures/<version>/`` (manifest last).

    ``selection`` is the dbt export in its shuffled order: one row per sample with ``source`` (boostqa |
    general), ids, bucket columns and the raw fields :func:`training_text` formats.
    """
    prefix = layout.mixture_prefix(mixture_version)
    if store.get_bytes_or_none(prefix + "manifest.json") is not None:
        raise LakeError(f"mixture {mixture_version} is already complete at {store.config.uri(prefix)}: versions are "
                        "immutable; export a new version (a new mixture_export run) instead")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [r | {"text": training_text(r), "mixture_version": mixture_version} for r in selection]
    parquet = _write_parquet_shards(out_dir, rows, rows_per_shard)
    packer = Packer(out_dir, seq_len, tokenizer.eos_token_id, tokenizer.vocab_size, sequences_per_shard)
    lineage, tokens_by_source = _pack(rows, parquet, rows_per_shard, tokenizer, packer, mixture_version)
    packed = packer.close()
    pq.write_table(pa.Table.from_pylist(lineage, schema=LINEAGE_SCHEMA), out_dir / "lineage.parquet",
                   compression="zstd")
    counts = _counts(rows, tokens_by_source)
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "mixture_version": mixture_version,
        "synthesis_runs": sorted({r["synthesis_run_id"] for r in rows if r["synthesis_run_id"]}),
        "counts": counts,
        "tokens": sum(tokens_by_source.values()),
        "tokenizer": {"path": str(tokenizer.path), "sha256": tokenizer.sha256},
        "parquet": parquet,
        "lineage": {"path": "lineage.parquet", "sha256": _sha256(out_dir / "lineage.parquet")},
        "packed": {"seq_len": seq_len, "dtype": str(packer.dtype), "eos_token_id": tokenizer.eos_token_id,
                   "vocab_size": tokenizer.vocab_size, "shards": [s.__dict__ for s in packed]},
    }
    (out_dir / "README.md").write_text(dataset_card(manifest), encoding="utf-8")
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    _upload(store, out_dir, mixture_version)
    log.info("export %s: %d samples, %d tokens, %d packed sequences -> %s", mixture_version, len(rows),
             manifest["tokens"], sum(s.sequences for s in packed), store.config.uri(prefix))
    return MixtureExportResult(mixture_version=mixture_version, samples=len(rows),
                               boostqa_samples=counts["by_source"].get("boostqa", 0),
                               general_samples=counts["by_source"].get("general", 0), tokens=manifest["tokens"],
                               packed_sequences=sum(s.sequences for s in packed),
                               manifest_uri=store.config.uri(prefix + "manifest.json"),
                               manifest_sha256=_sha256(out_dir / "manifest.json"), local_dir=str(out_dir))


def _pack(rows: list[dict[str, Any]], parquet: list[dict[str, Any]], rows_per_shard: int,
          tokenizer: TargetTokenizer, packer: Packer, mixture_version: str
          ) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Tokenize every sample into the packer; returns each sample's lineage row and the tokens per source."""
    lineage: list[dict[str, Any]] = []
    tokens_by_source: Counter[str] = Counter()
    for start, batch in zip(range(0, len(rows), 256), batched((r["text"] for r in rows), 256), strict=True):
        for offset, ids in enumerate(tokenizer.encode_batch(batch)):
            row = rows[start + offset]
            shard, sequence, token_offset = packer.add(ids)
            tokens_by_source[row["source"]] += len(ids) + 1
            position = start + offset
            lineage.append({"mixture_version": mixture_version, "sample_id": row["sample_id"],
                            "source": row["source"], "item_id": row["item_id"],
                            "parquet_shard": parquet[position // rows_per_shard]["path"],
                            "parquet_row": position % rows_per_shard, "packed_shard": shard,
                            "packed_sequence": sequence, "token_offset": token_offset, "tokens": len(ids) + 1})
        log.info("export %s: tokenized %d/%d samples", mixture_version, min(start + 256, len(rows)), len(rows))
    return lineage, tokens_by_source


def _counts(rows: list[dict[str, Any]], tokens_by_source: Counter[str]) -> dict[str, Any]:
    """The manifest's counts: samples per source, discipline, difficulty and strategy, and tokens per source."""
    return {
        "samples": len(rows),
        "by_source": dict(Counter(r["source"] for r in rows)),
        "by_discipline": dict(sorted(Counter(r["discipline_id"] or "none" for r in rows).items())),
        "by_difficulty": {str(k): v for k, v in sorted(Counter(r["difficulty"] for r in rows
                                                               if r["difficulty"] is not None).items())},
        "by_strategy": dict(sorted(Counter(r["strategy"] for r in rows if r["strategy"]).items())),
        "tokens_by_source": dict(tokens_by_source),
    }


def _upload(store: ObjectStore, out_dir: Path, mixture_version: str) -> None:
    """Upload the version's files, drop what an interrupted try left, and write the manifest last."""
    prefix = layout.mixture_prefix(mixture_version)
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != "manifest.json"):
        store.put_bytes(prefix + path.relative_to(out_dir).as_posix(), path.read_bytes())
    # The lineage again where the warehouse reads every version's (fct_mixture_lineage).
    store.put_bytes(layout.mixture_lineage_part(mixture_version), (out_dir / "lineage.parquet").read_bytes())
    written = {prefix + p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()}
    stale = [k for k in store.list_keys(prefix) if k not in written and k != prefix + SELECTION_NAME]
    store.delete_keys(stale)  # left by an interrupted try of this same run (never another version's objects)
    store.put_bytes(prefix + "manifest.json", (out_dir / "manifest.json").read_bytes(), "application/json")


def load_selection(store: ObjectStore, mixture_version: str) -> list[dict[str, Any]]:
    """The samples dbt selected for a mixture version, in their shuffled order.

    Raises:
        LakeError: the warehouse has not exported that version (run the mixture_export DAG's dbt group).
    """
    key = layout.mixture_prefix(mixture_version) + SELECTION_NAME
    data = store.get_bytes_or_none(key)
    if data is None:
        raise LakeError(f"no mixture selection at {store.config.uri(key)}: build export_training_mixture with "
                        f"mixture_version={mixture_version} first")
    return cast(list[dict[str, Any]], pq.read_table(pa.BufferReader(data)).sort_by("sample_order").to_pylist())


def published_manifest(store: ObjectStore, mixture_version: str) -> tuple[dict[str, Any], str] | None:
    """The complete version's manifest and its sha256, or None while the version is incomplete or absent."""
    data = store.get_bytes_or_none(layout.mixture_prefix(mixture_version) + "manifest.json")
    return None if data is None else (json.loads(data), hashlib.sha256(data).hexdigest())


def publish_mixture(store: ObjectStore, mixture_version: str) -> dict[str, Any]:
    """Point ``mixtures/latest.json`` at a complete version; returns the pointer (version, manifest sha256, counts).

    Raises:
        LakeError: the version has no manifest yet (its export did not finish).
    """
    published = published_manifest(store, mixture_version)
    if published is None:
        raise LakeError(f"mixture {mixture_version} has no manifest at "
                        f"{store.config.uri(layout.mixture_prefix(mixture_version))}: its export did not finish")
    manifest, sha = published
    return write_pointer(store, "mixtures", mixture_version, manifest_sha256=sha, samples=manifest["counts"]["samples"],
                         boostqa_samples=manifest["counts"]["by_source"].get("boostqa", 0), tokens=manifest["tokens"])
