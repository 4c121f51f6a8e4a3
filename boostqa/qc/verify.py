"""QC's verify and cluster phases: exact Jaccard of candidate pairs (shingles fetched for them only), then clusters.

A pair's b is always an item of this run; its a is of this run or of the index. Pairs travel in two hops: to a's
item bucket (where a's shingle set is: the run's survivors of that bucket, or the index part of that bucket), then
to b's, where the pair is scored.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from boostqa.qc.buckets import (
    BUCKETS,
    DEDUP_REMOVALS,
    PAIRS,
    SCORED_PAIRS,
    SHINGLED_PAIRS,
    SURVIVORS,
    concat,
    item_buckets,
    rank_key,
    split,
)
from boostqa.qc.dedup import _Clusters
from boostqa.qc.index import fetch_index_shingles
from boostqa.qc.minhash import jaccard
from boostqa.qc.phases import Lake, as_store, shingle_list


def _sets(table: pa.Table, column: str) -> list[np.ndarray]:
    """Each row's shingle set of a list column, as numpy views (no Python lists)."""
    shingles = table.column(column).combine_chunks()
    offsets, values = shingles.offsets.to_numpy(), shingles.values.to_numpy()
    return [values[offsets[i] : offsets[i + 1]] for i in range(len(shingles))]


def _survivor_sets(survivors: pa.Table, wanted: list[str]) -> dict[str, np.ndarray]:
    rows = survivors.filter(pc.is_in(survivors.column("item_id"), pa.array(wanted, pa.string())))
    return dict(zip(rows.column("item_id").to_pylist(), _sets(rows, "shingles"), strict=True))


def attach_a(lake: Lake, run_id: str, bucket: int, pair_count: int, *tables: pa.Table) -> list[pa.Table]:
    """Pairs whose a is in item bucket ``bucket``, with a's shingle set, by b's item bucket.

    ``tables``: the pairs of every key bucket for this a-bucket (``pair_count`` tables), then this bucket's run
    survivors.
    """
    pairs = concat(tables[:pair_count], PAIRS)
    survivors = concat(tables[pair_count:], SURVIVORS)
    a_ids, a_runs = pairs.column("a_id").to_pylist(), pairs.column("a_run").to_pylist()
    sets = _survivor_sets(survivors, sorted({a for a, r in zip(a_ids, a_runs, strict=True) if r == run_id}))
    by_run: dict[str, set[str]] = defaultdict(set)
    for a, r in zip(a_ids, a_runs, strict=True):
        if r != run_id:
            by_run[r].add(a)
    for run, ids in sorted(by_run.items()):
        sets.update(fetch_index_shingles(as_store(lake), run, bucket, sorted(ids)))
    table = pairs.append_column("a_shingles", shingle_list([sets[a] for a in a_ids])).cast(SHINGLED_PAIRS)
    return split(table, item_buckets(table.column("b_id").to_pylist()))


def score_pairs(pair_count: int, *tables: pa.Table) -> pa.Table:
    """Exact Jaccard of each distinct pair whose b is in this item bucket (``SCORED_PAIRS``, sorted).

    ``tables``: the pairs with a's shingles from every a-bucket (``pair_count`` tables), then this bucket's run
    survivors.
    """
    pairs = concat(tables[:pair_count], SHINGLED_PAIRS)
    sets = _survivor_sets(concat(tables[pair_count:], SURVIVORS), sorted(set(pairs.column("b_id").to_pylist())))
    rows: dict[tuple[str, str], dict[str, object]] = {}
    for row, a_set in zip(pairs.drop_columns(["a_shingles"]).to_pylist(), _sets(pairs, "a_shingles"), strict=True):
        if (row["a_id"], row["b_id"]) not in rows:
            rows[(row["a_id"], row["b_id"])] = row | {"similarity": jaccard(a_set, sets[row["b_id"]])}
    return pa.Table.from_pylist([rows[k] for k in sorted(rows)], schema=SCORED_PAIRS)


def clusters(run_id: str, threshold: float, *scored: pa.Table) -> list[pa.Table]:
    """Near-duplicate clusters of the verified pairs: each removed run item with its cluster's keeper.

    The keeper is the cluster's first member in keep order. Returns the assignments (``SCORED_PAIRS``: a is the
    keeper, b the removed item, similarity null where the two were never scored) and those unscored (keeper, item)
    pairs, by the keeper's item bucket, to be scored like the candidates.
    """
    pairs = concat(scored, SCORED_PAIRS).to_pylist()
    known = {(p["a_id"], p["b_id"]): p["similarity"] for p in pairs}
    edges = [p for p in pairs if p["similarity"] >= threshold]
    members: dict[str, tuple[str, int]] = {}
    for p in edges:
        members[p["a_id"]] = (p["a_run"], p["a_difficulty"])
        members[p["b_id"]] = (run_id, p["b_difficulty"])
    order = sorted(members, key=lambda i: rank_key(members[i][0], run_id, members[i][1], i))
    position = {item: n for n, item in enumerate(order)}
    components = _Clusters()
    for p in edges:
        components.join(position[p["a_id"]], position[p["b_id"]])
    assigned = []
    for n, item in enumerate(order):
        keeper = order[components.root(n)]
        if keeper != item and members[item][0] == run_id:
            assigned.append({"a_id": keeper, "a_run": members[keeper][0], "a_difficulty": members[keeper][1],
                             "b_id": item, "b_difficulty": members[item][1], "similarity": known.get((keeper, item))})
    table = pa.Table.from_pylist(assigned, schema=SCORED_PAIRS)
    unscored = table.filter(pc.is_null(table.column("similarity"))).drop_columns(["similarity"]).cast(PAIRS)
    return [table, *split(unscored, item_buckets(unscored.column("a_id").to_pylist()))]


def finalize(run_id: str, shingle_size: int, *tables: pa.Table) -> list[pa.Table]:
    """The run's dedup removals by item bucket (``DEDUP_REMOVALS``).

    Near duplicates with their keeper and Jaccard, and exact duplicates, re-pointed at the cluster keeper when their
    twin lost a near-duplicate cluster.

    ``tables``: the assignments, the scores of the unscored assignments (``BUCKETS`` tables), then the exact
    removals of every key bucket.
    """
    assigned = tables[0].to_pylist()
    rescored = concat(tables[1 : 1 + BUCKETS], SCORED_PAIRS).to_pylist()
    late = {(p["a_id"], p["b_id"]): p["similarity"] for p in rescored}
    near: dict[str, dict[str, object]] = {}
    for p in assigned:
        similarity = p["similarity"] if p["similarity"] is not None else late[(p["a_id"], p["b_id"])]
        similarity = round(float(similarity), 4)
        near[p["b_id"]] = {"item_id": p["b_id"], "step": "near_dedup", "duplicate_of": p["a_id"],
                           "similarity": similarity, "detail": f"Jaccard {similarity:.2f} with {p['a_id']} "
                                                               f"({shingle_size}-token shingles)"}
    rows = list(near.values())
    for exact in concat(tables[1 + BUCKETS :], DEDUP_REMOVALS).to_pylist():
        twin = near.get(exact["duplicate_of"])
        rows.append(exact if twin is None else exact | {"duplicate_of": twin["duplicate_of"],
                                                        "similarity": twin["similarity"]})
    table = pa.Table.from_pylist(sorted(rows, key=lambda r: str(r["item_id"])), schema=DEDUP_REMOVALS)
    return split(table, item_buckets(table.column("item_id").to_pylist()))
