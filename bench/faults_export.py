"""The export's SIGKILL row: a mixture export killed as its first shard lands, then rerun.

A synthesis run of planted items (bench/qc_corpus.py) is selected whole, as dbt exports a selection
(bench/qc_scale_export.py), and exported in the worker's process with the embedded model's tokenizer, in small
shards. The kill lands after the first shard and before the manifest: the version must not be published (no
manifest, so no reader, dbt's lineage included, sees it), and the rerun must publish it with every selected sample
in its lineage exactly once and every shard matching the checksum its manifest records.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path

import pyarrow.parquet as pq

from bench.faults_kill import row_store, run_worker, worker_spec
from bench.qc_corpus import CorpusGenerator
from bench.qc_scale_export import put_selection
from boostqa.export.config import ExportRunConfig
from boostqa.export.mixture import SELECTION_NAME, published_manifest
from boostqa.lake import layout
from boostqa.lake.store import LakeConfig
from boostqa.qc.config import QcRunConfig
from boostqa_dev.faults.rows import FaultRow, outcome_counts


def export_kill_row(config: LakeConfig, tokenizer: Path, folder: Path, items: int = 20_000) -> FaultRow:
    """Kill the export mid-write; nothing is published until the rerun, which ends every sample once."""
    store = row_store(config, "kill-export")
    run_id, version = "synthesize_faults_export", "mixture_faults_kill"
    CorpusGenerator(QcRunConfig.model_validate({}).qc_config(), seed=2).write_run(store, run_id, items, "e-")
    samples = put_selection(store, run_id, version)
    params = ExportRunConfig.model_validate({"tokenizer_dir": str(tokenizer), "rows_per_shard": max(samples // 8, 1),
                                             "sequences_per_shard": 256}).model_dump(mode="json")
    spec = worker_spec(store, stage="export", run_id=version, params=params)
    env = {"BOOSTQA_STATE_DIR": str(folder / "export_state")}  # the in-process export's local copy goes there
    prefix = layout.mixture_prefix(version)
    started = time.monotonic()
    killed, _ = run_worker(spec, lambda: any(not k.endswith(SELECTION_NAME) for k in store.list_keys(prefix)), 600,
                           folder / "kill_export.log", env)
    unpublished = published_manifest(store, version) is None
    run_worker(spec, None, 0, folder / "kill_export.log", env)
    published = published_manifest(store, version)
    lineage = pq.read_table(io.BytesIO(store.get_bytes(layout.mixture_lineage_part(version))), columns=["item_id"])
    manifest = published[0] if published else {}
    entries = [*manifest.get("parquet", []), *manifest.get("packed", {}).get("shards", [])]
    shards_ok = bool(entries) and all(
        hashlib.sha256(store.get_bytes(prefix + e["path"])).hexdigest() == e["sha256"] for e in entries)
    selected = pq.read_table(io.BytesIO(store.get_bytes(prefix + SELECTION_NAME)), columns=["item_id"])
    done, reasons, lost, duplicated = outcome_counts(selected["item_id"].to_pylist(),
                                                     lineage["item_id"].to_pylist(), [])
    return FaultRow(fault="SIGKILL export worker mid-write", injected=int(killed), jobs=samples, completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, wall_s=round(time.monotonic() - started, 1),
                    message=json.dumps({"shards": len(entries), "tokens": manifest.get("tokens")}),
                    checks={"killed before its manifest": killed, "unpublished until the rerun": unpublished,
                            "every shard matches its manifest": shards_ok})
