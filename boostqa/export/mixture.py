"""Export a training mixture: HF parquet shards + dataset card, packed token shards, lineage and a manifest."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
from pydantic import BaseModel, Field

from boostqa.errors import LakeError
from boostqa.export.card import dataset_card
from boostqa.export.packing import TargetTokenizer, packed_dtype
from boostqa.export.shards import ExportPlan, WrittenShard, checked, count_samples, write_shard
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.read import dbt_export
from boostqa.lake.store import ObjectStore
from boostqa.lake.versions import write_pointer

log = logging.getLogger(__name__)
MANIFEST_VERSION = 1  # training/data.py reads this version
SELECTION_NAME = "selection.parquet"  # what dbt's export_training_mixture writes beside the export


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
    local_dir: str | None = Field(None, description="a local copy of every file (in-process exports only)")


def refuse_complete(store: ObjectStore, mixture_version: str) -> None:
    """Stop before writing anything when the version is complete.

    Raises:
        LakeError: the version has its manifest: versions are immutable.
    """
    prefix = layout.mixture_prefix(mixture_version)
    if store.get_bytes_or_none(prefix + "manifest.json") is not None:
        raise LakeError(f"mixture {mixture_version} is already complete at {store.config.uri(prefix)}: versions are "
                        "immutable; export a new version (a new mixture_export run) instead")


def export_mixture(store: ObjectStore, selection: list[dict[str, Any]], mixture_version: str,
                   tokenizer: TargetTokenizer, out_dir: Path, seq_len: int = 512, rows_per_shard: int = 50_000,
                   sequences_per_shard: int = 4096) -> MixtureExportResult:
    """Export the mixture in this process: write it under ``out_dir`` and to ``mixtures/<version>/`` (manifest last).

    ``selection`` is the dbt export in its shuffled order: one row per sample with ``source`` (boostqa |
    general), ids, bucket columns and the raw fields :func:`training_text` formats. The shards are planned and
    written by the same functions as on Ray Data (``boostqa.export.distributed``), so the bytes are the same.
    """
    refuse_complete(store, mixture_version)
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = checked(count_samples(selection, tokenizer, orders=range(1, len(selection) + 1)), tokenizer)
    plan = ExportPlan(samples.column("tokens").to_numpy(), rows_per_shard, seq_len, sequences_per_shard)
    prefix = layout.mixture_prefix(mixture_version)
    written = []
    for task in plan.tasks():
        data, shard = write_shard(task, selection[task.first : task.stop], tokenizer, mixture_version)
        (out_dir / task.path).parent.mkdir(parents=True, exist_ok=True)
        (out_dir / task.path).write_bytes(data)
        store.put_bytes(prefix + task.path, data)
        written.append(shard)
    return finish_export(store, mixture_version, plan, samples, written, tokenizer, out_dir)


def finish_export(store: ObjectStore, mixture_version: str, plan: ExportPlan, samples: pa.Table,
                  written: list[WrittenShard], tokenizer: TargetTokenizer, local_dir: Path | None = None
                  ) -> MixtureExportResult:
    """After every shard is in the lake: the lineage, the card, stale objects dropped, and the manifest last."""
    prefix = layout.mixture_prefix(mixture_version)
    shards = sorted(written, key=lambda s: (s.kind, s.index))
    lineage = parquet_bytes(plan.lineage(samples, mixture_version))
    counts = _counts(samples)
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "mixture_version": mixture_version,
        "synthesis_runs": sorted({r for r in samples.column("synthesis_run_id").to_pylist() if r}),
        "counts": counts,
        "tokens": plan.total_tokens,
        "tokenizer": {"path": str(tokenizer.path), "sha256": tokenizer.sha256},
        "parquet": [s.manifest_entry() for s in shards if s.kind == "parquet"],
        "lineage": {"path": "lineage.parquet", "sha256": hashlib.sha256(lineage).hexdigest()},
        "packed": {"seq_len": plan.seq_len, "dtype": str(packed_dtype(tokenizer.vocab_size)),
                   "eos_token_id": tokenizer.eos_token_id, "vocab_size": tokenizer.vocab_size,
                   "shards": [s.manifest_entry() for s in shards if s.kind == "packed"]},
    }
    files = {"lineage.parquet": lineage, "README.md": dataset_card(manifest).encode("utf-8"),
             "manifest.json": json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")}
    if local_dir is not None:
        for name, data in files.items():
            (local_dir / name).write_bytes(data)
    for name in ("lineage.parquet", "README.md"):
        store.put_bytes(prefix + name, files[name])
    # The lineage again where the warehouse reads every version's (fct_mixture_lineage).
    store.put_bytes(layout.mixture_lineage_part(mixture_version), lineage)
    keep = {prefix + s.path for s in shards} | {prefix + name for name in files} | {prefix + SELECTION_NAME}
    store.delete_keys([k for k in store.list_keys(prefix) if k not in keep])  # an interrupted try's leftovers
    store.put_bytes(prefix + "manifest.json", files["manifest.json"], "application/json")
    sequences = sum(s.count for s in shards if s.kind == "packed")
    log.info("export %s: %d samples, %d tokens, %d packed sequences -> %s", mixture_version, plan.samples,
             plan.total_tokens, sequences, store.config.uri(prefix))
    return MixtureExportResult(mixture_version=mixture_version, samples=plan.samples,
                               boostqa_samples=counts["by_source"].get("boostqa", 0),
                               general_samples=counts["by_source"].get("general", 0), tokens=plan.total_tokens,
                               packed_sequences=sequences, manifest_uri=store.config.uri(prefix + "manifest.json"),
                               manifest_sha256=hashlib.sha256(files["manifest.json"]).hexdigest(),
                               local_dir=None if local_dir is None else str(local_dir))


def _counts(samples: pa.Table) -> dict[str, Any]:
    """The manifest's counts: samples per source, discipline, difficulty and strategy, and tokens per source."""
    sources = samples.column("source").to_pylist()
    tokens_by_source: Counter[str] = Counter()
    for source, tokens in zip(sources, samples.column("tokens").to_pylist(), strict=True):
        tokens_by_source[source] += tokens
    difficulties = Counter(d for d in samples.column("difficulty").to_pylist() if d is not None)
    disciplines = Counter(d or "none" for d in samples.column("discipline_id").to_pylist())
    return {
        "samples": samples.num_rows,
        "by_source": dict(Counter(sources)),
        "by_discipline": dict(sorted(disciplines.items())),
        "by_difficulty": {str(k): v for k, v in sorted(difficulties.items())},
        "by_strategy": dict(sorted(Counter(s for s in samples.column("strategy").to_pylist() if s).items())),
        "tokens_by_source": dict(tokens_by_source),
    }


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
    return cast(list[dict[str, Any]], dbt_export(data).sort_by("sample_order").to_pylist())


def published_manifest(store: ObjectStore, mixture_version: str) -> tuple[dict[str, Any], str] | None:
    """The complete version's manifest and its sha256, or None while the version is incomplete or absent."""
    data = store.get_bytes_or_none(layout.mixture_prefix(mixture_version) + "manifest.json")
    return None if data is None else (json.loads(data), hashlib.sha256(data).hexdigest())


def fetch_packed(store: ObjectStore, mixture_version: str, folder: Path) -> Path:
    """A local copy of what the trainer reads of a complete version (its packed shards, then its manifest).

    For a trainer on this machine (the local launcher) when the export ran elsewhere: a Ray Data export writes
    straight to the lake. A copy whose manifest is the lake's is used as it is (the trainer checks every shard's
    sha256 before its first step); otherwise each shard that is missing or differs is fetched. Returns the manifest.

    Raises:
        LakeError: the version has no manifest (its export did not finish).
    """
    prefix = layout.mixture_prefix(mixture_version)
    data = store.get_bytes_or_none(prefix + "manifest.json")
    if data is None:
        raise LakeError(f"mixture {mixture_version} has no manifest at {store.config.uri(prefix)}: its export did "
                        "not finish")
    target = folder / "manifest.json"
    if target.exists() and target.read_bytes() == data:
        return target
    for shard in json.loads(data)["packed"]["shards"]:
        path = folder / shard["path"]
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != shard["sha256"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(store.get_bytes(prefix + shard["path"]))
    target.write_bytes(data)  # last: a copy with this manifest is complete
    log.info("mixture %s: packed shards fetched from %s into %s", mixture_version, store.config.uri(prefix), folder)
    return target


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
