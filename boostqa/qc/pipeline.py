"""QC of one run as a bucketed shuffle: phases submitted as Ray tasks on a cluster, or called in this process.

Screen chunks of the run -> per key bucket, exact duplicates and LSH candidates against that bucket of the index ->
exact Jaccard of the candidates (shingles fetched for them only) -> clusters and the keep rule -> per bucket, the
run's decisions and index parts. Tables move between phases as arrow tables (Ray's object store, spilling to disk);
the driver holds only references and counts, so its memory does not grow with the run or the corpus.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.qc.buckets import BUCKETS
from boostqa.qc.commit import write_item_bucket, write_key_bucket
from boostqa.qc.index import index_key_parts
from boostqa.qc.phases import Lake, candidate_pairs, screen_chunk, settle_exact
from boostqa.qc.stage import QualityControl
from boostqa.qc.verify import attach_a, clusters, finalize, score_pairs

log = logging.getLogger(__name__)
CHUNK_ROWS = 50_000  # items per screening task: a few hundred MB of a worker at most


class Tasks(Protocol):
    """Where phases run: ``submit`` returns one handle per output, ``get`` the values of handles."""

    def lake_arg(self, store: ObjectStore) -> Lake: ...  # noqa: D102

    def put(self, value: Any) -> Any: ...  # noqa: D102

    def submit(self, fn: Callable[..., Any], *args: Any, returns: int = 1) -> list[Any]: ...  # noqa: D102

    def get(self, handles: Sequence[Any]) -> list[Any]: ...  # noqa: D102


class LocalTasks:
    """Every phase called at once in this process (small runs, and everywhere without a Ray cluster)."""

    def lake_arg(self, store: ObjectStore) -> Lake:
        """Phases use this process's store."""
        return store

    def put(self, value: Any) -> Any:
        """Nothing to share: the value itself."""
        return value

    def submit(self, fn: Callable[..., Any], *args: Any, returns: int = 1) -> list[Any]:
        """Call ``fn`` now; its outputs are the handles."""
        out = fn(*args)
        return list(out) if returns > 1 else [out]

    def get(self, handles: Sequence[Any]) -> list[Any]:
        """The values are the handles."""
        return list(handles)


class RayTasks:
    """Phases as Ray tasks of the connected cluster, one CPU each; arguments and outputs in Ray's object store."""

    def __init__(self) -> None:
        import ray

        ray.init(ignore_reinit_error=True, log_to_driver=False)
        self._ray = ray
        self._remote: dict[Callable[..., Any], Any] = {}
        nodes = [n for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]  # ray ships no annotations
        log.info("qc phases on Ray: %d node(s), %d CPUs", len(nodes),
                 sum(int(n.get("Resources", {}).get("CPU", 0)) for n in nodes))

    def lake_arg(self, store: ObjectStore) -> Lake:
        """Workers open their own client from the config."""
        return store.config

    def put(self, value: Any) -> Any:
        """One copy in the object store, read by every task that gets the reference."""
        return self._ray.put(value)

    def submit(self, fn: Callable[..., Any], *args: Any, returns: int = 1) -> list[Any]:
        """Submit ``fn`` as a task (references among ``args`` are resolved by Ray before it runs)."""
        remote = self._remote.setdefault(fn, self._ray.remote(num_cpus=1, max_retries=2)(fn))
        refs = remote.options(num_returns=returns).remote(*args)
        return list(refs) if returns > 1 else [refs]

    def get(self, handles: Sequence[Any]) -> list[Any]:
        """Wait for the tasks and fetch their (small) results."""
        return list(self._ray.get(list(handles)))


def chunks_of(parts: Sequence[tuple[str, int]], chunk_rows: int = CHUNK_ROWS) -> list[list[str]]:
    """Consecutive parts grouped into screening chunks of about ``chunk_rows`` items (a part is never split)."""
    out: list[list[str]] = []
    rows = 0
    for key, count in parts:
        if not out or rows + count > chunk_rows:
            out.append([])
            rows = 0
        out[-1].append(key)
        rows += count
    return out


def deduplicate_run(store: ObjectStore, run_id: str, quality: QualityControl, parts: Sequence[tuple[str, int]],
                    tasks: Tasks) -> dict[str, Any]:
    """Run every phase of one run's QC; returns its counts. Writes its parts but not the marker (the caller does)."""
    started = time.monotonic()
    minhash = quality.config.minhash
    lake, fp, buckets = tasks.lake_arg(store), quality.index_fingerprint, range(BUCKETS)
    shared = tasks.put(quality)
    chunks = chunks_of(parts)
    screened = [tasks.submit(screen_chunk, shared, lake, run_id, chunk, returns=3 * BUCKETS) for chunk in chunks]
    removals = [[s[b] for s in screened] for b in buckets]
    survivors = [[s[BUCKETS + b] for s in screened] for b in buckets]
    keys = [[s[2 * BUCKETS + p] for s in screened] for p in buckets]
    index_parts = index_key_parts(store, exclude_run=run_id)
    settled = [tasks.submit(settle_exact, lake, run_id, index_parts.get(p, []), fp, minhash.max_group_pairs,
                            *keys[p], returns=2) for p in buckets]
    exact = [s[0] for s in settled]
    pairs = [tasks.submit(candidate_pairs, run_id, minhash.max_group_pairs, len(chunks), *keys[p], settled[p][1],
                          *exact, returns=BUCKETS) for p in buckets]
    scored = _score(tasks, lake, run_id, [[pairs[p][q] for p in buckets] for q in buckets], survivors)
    assigned = tasks.submit(clusters, run_id, minhash.threshold, *scored, returns=1 + BUCKETS)
    rescored = _score(tasks, lake, run_id, [[assigned[1 + q]] for q in buckets], survivors)
    dedup = tasks.submit(finalize, run_id, minhash.shingle_size, assigned[0], *rescored, *exact, returns=BUCKETS)
    results = tasks.get([
        *(tasks.submit(write_item_bucket, lake, run_id, q, fp, len(chunks), len(chunks), *survivors[q], *removals[q],
                       dedup[q])[0] for q in buckets),
        *(tasks.submit(write_key_bucket, lake, run_id, p, fp, len(chunks), *keys[p], *dedup)[0] for p in buckets),
    ])
    written = {key for r in results for key in r["written"]}
    for table in layout.QC_TABLES:  # parts an earlier try of this run wrote in buckets now empty
        prefix = f"{layout.qc_table_prefix(table)}run_id={run_id}/"
        store.delete_keys([k for k in store.list_keys(prefix) if k not in written])
    reasons: Counter[str] = Counter()
    for r in results:
        reasons.update(r["reasons"])
    items, kept = sum(r["items"] for r in results), sum(r["kept"] for r in results)
    log.info("qc %s: %d items in %d chunk(s) -> %d kept in %.1f s (%d buckets, %s)", run_id, items, len(chunks), kept,
             time.monotonic() - started, BUCKETS, type(tasks).__name__)
    return {"items": items, "kept": kept, "reasons": dict(sorted(reasons.items()))}


def _score(tasks: Tasks, lake: Lake, run_id: str, pairs_by_a: list[list[Any]], survivors: list[list[Any]]) -> list[Any]:
    """Pairs by a's item bucket -> their exact Jaccard, one table per b's item bucket."""
    buckets = range(BUCKETS)
    hopped = [tasks.submit(attach_a, lake, run_id, q, len(pairs_by_a[q]), *pairs_by_a[q], *survivors[q],
                           returns=BUCKETS) for q in buckets]
    return [tasks.submit(score_pairs, BUCKETS, *(hopped[a][q] for a in buckets), *survivors[q])[0] for q in buckets]
