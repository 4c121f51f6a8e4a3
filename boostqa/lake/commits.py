"""The lake's commit protocol as Python readers obey it: a part is read only once the marker that commits it exists.

Writers put a unit's parts first and its marker last, and delete the marker first when they redo the unit. Which
marker commits a part is the table's ``commit`` rule in the lake contract (``boostqa/lake/tables.py``):

- ``shard_marker:<root>``: ``part-<n>`` of run ``R`` (the shard's outputs, its quarantine and its ledger) is
  committed by ``<root>/run_id=R/_SUCCESS.<n>`` (annotate writes ``annotations/``, synthesis ``qa/``);
- ``ledger_shard_marker``: a ledger part, by the shard marker of the stage that wrote it (``STAGE_MARKER_ROOTS``);
- ``qc_marker``: every part of QC run ``R`` by ``qc/done/run_id=R/_SUCCESS``;
- ``seed_manifest`` / ``ingest_quarantine_manifest``: by the seed partition's ``_manifest.json`` (which names them;
  ``boostqa/ingest/committed.py`` also checks their sha256);
- ``mixture_manifest``: a mixture version's lineage by ``mixtures/<version>/manifest.json``;
- ``object``: the table's unit is one object, and an S3 PUT is atomic, so the object is its own commit.

dbt's staging models apply the same rules in SQL (``dbt_project/macros/lake_commits.sql``).
"""

from __future__ import annotations

import logging
import re

import pyarrow as pa

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.lake.read import read_keys
from boostqa.lake.store import ObjectStore

log = logging.getLogger(__name__)

# The stage whose ledger parts a shard marker commits -> the folder its shard markers are in.
STAGE_MARKER_ROOTS = {"annotate": layout.ANNOTATIONS, "synthesize": layout.QA}
COMMIT_RULES = ("object", "qc_marker", "seed_manifest", "ingest_quarantine_manifest", "mixture_manifest",
                "ledger_shard_marker", *(f"shard_marker:{root}" for root in STAGE_MARKER_ROOTS.values()))

_RUN_PART = re.compile(r"run_id=(?P<run>[^/]+)/part-(?P<part>\d+)\.parquet$")


def commit_shard(store: ObjectStore, prefix: str, shard: int) -> None:
    """Commit a shard of the run at ``prefix``: its marker, put after every part the shard wrote (in every table)."""
    store.put_bytes(layout.shard_marker(prefix, shard), b"")


def marker_globs(rule: str) -> list[str]:
    """The keys (globs under the bucket) a reader lists to apply ``rule``; none for ``object``."""
    kind, _, root = rule.partition(":")
    shard_roots = {"shard_marker": [root], "ledger_shard_marker": sorted(STAGE_MARKER_ROOTS.values())}
    if kind in shard_roots:
        return [f"{r}/run_id=*/_SUCCESS.*" for r in shard_roots[kind]]
    return {"object": [], "qc_marker": [layout.qc_marker("*")],
            "seed_manifest": [f"{layout.RAW_SEEDS}/source=*/ingest_date=*/{layout.MANIFEST_NAME}"],
            "ingest_quarantine_manifest": [f"{layout.RAW_SEEDS}/source=*/ingest_date=*/{layout.MANIFEST_NAME}"],
            "mixture_manifest": [f"{layout.MIXTURES}/*/manifest.json"]}[rule]


def split_committed_shard_parts(store: ObjectStore, prefix: str, marker_root: str) -> tuple[list[str], list[str]]:
    """The ``part-<n>.parquet`` keys under ``prefix`` whose shard marker under ``marker_root`` exists, and the rest.

    ``prefix`` is one run's folder (``qa/run_id=R/``) or a table's root holding every run (``annotations/``).
    """
    keys = [k for k in store.list_keys(prefix) if k.endswith(".parquet")]
    run = re.search(r"run_id=([^/]+)/$", prefix)
    listed = f"{marker_root}/run_id={run.group(1)}/" if run else f"{marker_root}/"
    markers = {k for k in store.list_keys(listed) if "/_SUCCESS." in k}
    committed: list[str] = []
    pending: list[str] = []
    for key in keys:
        found = _RUN_PART.search(key)
        marker = found and layout.shard_marker(f"{marker_root}/run_id={found['run']}/", int(found["part"]))
        (committed if marker in markers else pending).append(key)
    return committed, pending


def committed_shard_parts(store: ObjectStore, prefix: str, marker_root: str) -> list[str]:
    """The parts under ``prefix`` their shard's marker commits; the others are logged and left out."""
    committed, pending = split_committed_shard_parts(store, prefix, marker_root)
    real = [k for k in pending if f"run_id={layout.BOOTSTRAP_RUN}/" not in k]  # empty schema parts: no marker
    if real:
        log.info("%d parts under %s have no shard marker yet (a shard in flight or one that stopped before "
                 "committing): not read, e.g. %s", len(real), prefix, real[:3])
    return committed


def read_committed_shards(store: ObjectStore, prefix: str, marker_root: str, columns: list[str]) -> pa.Table | None:
    """The given columns of every committed part under ``prefix``; None when there is none with rows."""
    return read_keys(store, committed_shard_parts(store, prefix, marker_root), columns)


def committed_qc_runs(store: ObjectStore) -> set[str]:
    """The runs whose QC finished (their ``qc/done`` marker exists)."""
    prefix = layout.qc_table_prefix("done")
    return {qc_run_of(k, prefix) for k in store.list_keys(prefix) if k.endswith("/_SUCCESS")}


def qc_run_of(key: str, table_prefix: str) -> str:
    """The run id of a key under a QC table's folder (``qc/<table>/run_id=<run>/...``)."""
    return key.removeprefix(table_prefix).split("/", 1)[0].removeprefix("run_id=")


def read_committed_qc(store: ObjectStore, table: str, columns: list[str]) -> pa.Table | None:
    """The given columns of a QC table (``kept``, ``removals``) over the runs whose QC finished."""
    prefix = layout.qc_table_prefix(table)
    done = committed_qc_runs(store)
    return read_keys(store, [key for key in store.list_keys(prefix)
                             if key.endswith(".parquet") and qc_run_of(key, prefix) in done], columns)


def require_all_shards_committed(store: ObjectStore, run_id: str) -> list[str]:
    """A synthesis run's item parts, all committed; QC must not mark a run done over a shard that is not.

    Raises:
        LakeError: some parts have no shard marker (a synthesis shard failed or is still running).
    """
    committed, pending = split_committed_shard_parts(store, layout.qa_prefix(run_id), layout.QA)
    if pending:
        raise LakeError(f"synthesis run {run_id} has {len(pending)} parts without their shard marker "
                        f"(e.g. {store.config.uri(pending[0])}): a synthesize shard failed or is still running; "
                        "finish (or clear and rerun) that shard's synthesize task, then QC the run")
    return committed
