"""Token counts of the mixture's candidates with the target tokenizer, so dbt mixes by tokens; each counted once.

dbt takes general-corpus documents until ``general_ratio`` x the BoostQA tokens, so it needs every candidate's
tokens before it selects: QC-kept BoostQA items (their training text) and staged general documents. A count run
tokenizes only what no earlier run counted with the same tokenizer (keyed by its sha256): items by id (an item never
changes), documents by id and the md5 of their text (restaging a source may change one). The run's counts go to one
part, ``mixtures/token_counts/tokenizer=<sha256>/run_id=<run>/``, which a rerun of that run replaces. Counts include
the EOS the packer puts after every sample, as the export's do.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
from pydantic import BaseModel

from boostqa.export.distributed import shared
from boostqa.export.packing import TargetTokenizer
from boostqa.export.text import training_text
from boostqa.lake import layout
from boostqa.lake.arrow_fs import arrow_filesystem, arrow_paths, parquet_rows
from boostqa.lake.commits import read_committed_qc
from boostqa.lake.parquet import write_table
from boostqa.lake.read import read_object
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import TOKEN_COUNT_SCHEMA

log = logging.getLogger(__name__)
QA_COLUMNS = ["item_id", "run_id", "language", "question", "options", "refined_answer", "refined_option"]
GENERAL_COLUMNS = ["doc_id", "text"]
BATCH_ROWS = 1024
_COUNTED = pa.schema([f for f in TOKEN_COUNT_SCHEMA if f.name not in ("tokenizer_sha256", "run_id")])


class TokenCountResult(BaseModel):
    """What a count run did (the task's XCom; dbt reads the tokenizer's sha256 from it)."""

    run_id: str
    tokenizer_sha256: str
    boostqa: int
    general: int
    reused: int


def count_key(sample_id: str, detail: str) -> int:
    """A 64-bit key of a candidate (sample id and run or text md5): compact enough to share millions of them."""
    return int.from_bytes(hashlib.md5(f"{sample_id}\t{detail}".encode()).digest()[:8], "big")  # noqa: S324 - a key


def key_set(pairs: Iterable[tuple[str, str]]) -> np.ndarray:
    """The sorted, unique keys of (sample id, detail) pairs."""
    return np.unique(np.fromiter((count_key(s, d) for s, d in pairs), dtype=np.uint64))


def _members(keys: Sequence[int], of: np.ndarray) -> np.ndarray:
    """Which keys are in the sorted key set ``of``."""
    wanted = np.asarray(keys, dtype=np.uint64)
    if not len(of):
        return np.zeros(len(wanted), dtype=bool)
    found = np.minimum(np.searchsorted(of, wanted), len(of) - 1)
    return cast(np.ndarray, of[found] == wanted)


@dataclass(frozen=True)
class Candidates:
    """What to count: the kept items no run counted (keys of id and run), and the documents counted before."""

    wanted_items: np.ndarray
    counted_docs: np.ndarray

    def count(self, batch: pa.Table, tokenizer: TargetTokenizer) -> pa.Table:
        """Tokens of a batch's candidates: QA parts' kept items still to count, or documents not counted yet."""
        rows = batch.to_pylist()
        if "doc_id" in batch.column_names:
            samples = [("general", f"general:{r['doc_id']}", r["doc_id"], training_text(r | {"source": "general"}))
                       for r in rows]
            digests: list[str | None] = [hashlib.md5(s[3].encode()).hexdigest() for s in samples]  # noqa: S324
            keep = ~_members([count_key(s[1], str(d)) for s, d in zip(samples, digests, strict=True)],
                             self.counted_docs)
        else:
            samples = [("boostqa", f"boostqa:{r['item_id']}", r["item_id"], training_text(r | {"source": "boostqa"}))
                       for r in rows]
            digests = [None] * len(samples)
            keep = _members([count_key(f"boostqa:{r['item_id']}", r["run_id"]) for r in rows], self.wanted_items)
        chosen = [(s, d) for s, d, k in zip(samples, digests, keep, strict=True) if k]
        tokens = tokenizer.token_counts(s[3] for s, _ in chosen)
        return pa.table({"sample_id": [s[1] for s, _ in chosen], "source": [s[0] for s, _ in chosen],
                         "item_id": [s[2] for s, _ in chosen], "text_md5": [d for _, d in chosen],
                         "tokens": tokens}, schema=_COUNTED)


class CountCandidates:
    """Ray Data's callable class: one tokenizer per worker, the candidates' key sets read from the object store."""

    def __init__(self, tokenizer: TargetTokenizer | Any, candidates: Candidates | Any) -> None:
        self.tokenizer: TargetTokenizer = shared(tokenizer)
        self.candidates: Candidates = shared(candidates)

    def __call__(self, batch: pa.Table) -> pa.Table:
        """The counted candidates of one block."""
        return self.candidates.count(batch, self.tokenizer)


@dataclass(frozen=True)
class CountPlan:
    """A count run's inputs: the parts to read and which of their rows to count; ``reused`` samples are counted."""

    candidates: Candidates
    qa_keys: list[str]
    general_keys: list[str]
    reused: int


def plan_counts(store: ObjectStore, tokenizer_sha256: str, run_id: str) -> CountPlan:
    """What a run must count: kept items (each from the first run that kept it) and documents no run counted."""
    own = layout.token_counts_part(tokenizer_sha256, run_id)
    earlier = [read_object(store, key, ["sample_id", "source", "text_md5"])
               for key in store.list_keys(layout.token_counts_prefix(tokenizer_sha256))
               if key.endswith(".parquet") and key != own]  # a rerun counts what it counted before again
    counted = pa.concat_tables(earlier).to_pylist() if earlier else []
    counted_items = {r["sample_id"] for r in counted if r["source"] == "boostqa"}
    kept = read_committed_qc(store, "kept", ["item_id", "run_id"])  # runs whose QC finished only
    first_runs: dict[str, str] = {}
    rows = [r for r in (kept.to_pylist() if kept is not None else []) if r["run_id"] != layout.GENERAL_QC_RUN]
    for row in sorted(rows, key=lambda r: (r["item_id"], r["run_id"])):  # (the general corpus' decisions: not items)
        first_runs.setdefault(row["item_id"], row["run_id"])  # the run fct_qc_passed_items takes the item from
    missing = {item: run for item, run in first_runs.items() if f"boostqa:{item}" not in counted_items}
    candidates = Candidates(
        wanted_items=key_set((f"boostqa:{item}", run) for item, run in missing.items()),
        counted_docs=key_set((r["sample_id"], r["text_md5"]) for r in counted if r["source"] == "general"))
    qa_keys = [k for run in sorted(set(missing.values())) for k in store.list_keys(layout.qa_prefix(run))
               if k.endswith(".parquet")]
    general_keys = [k for k in store.list_keys(f"{layout.RAW_GENERAL}/") if k.endswith(".parquet")]
    return CountPlan(candidates, qa_keys, general_keys, len(counted))


def _count_here(store: ObjectStore, plan: CountPlan, tokenizer: TargetTokenizer) -> list[pa.Table]:
    return [plan.candidates.count(read_object(store, key, columns), tokenizer)
            for keys, columns in ((plan.qa_keys, QA_COLUMNS), (plan.general_keys, GENERAL_COLUMNS)) for key in keys]


def _count_on_ray(store: ObjectStore, plan: CountPlan, tokenizer: TargetTokenizer) -> list[pa.Table]:
    import ray

    ray.init(ignore_reinit_error=True, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]  # ray ships no annotations
    shared = (ray.put(tokenizer), ray.put(plan.candidates))
    fs, parts = arrow_filesystem(store.config), []
    for keys, columns in ((plan.qa_keys, QA_COLUMNS), (plan.general_keys, GENERAL_COLUMNS)):
        if not keys:
            continue
        counted = ray.data.read_parquet(arrow_paths(store.config, keys), filesystem=fs, columns=columns).map_batches(
            CountCandidates, fn_constructor_args=shared, batch_format="pyarrow", batch_size=BATCH_ROWS,
            concurrency=(1, max(1, cpus)), num_cpus=1)
        parts += [cast(pa.Table, b) for b in counted.iter_batches(batch_format="pyarrow", batch_size=None)]
    return parts


def count_tokens(store: ObjectStore, run_id: str, tokenizer: TargetTokenizer, on_ray: bool = False,
                 distributed_min_samples: int = 0) -> TokenCountResult:
    """Count the candidates no earlier run counted with this tokenizer, and write them as this run's part.

    On a Ray cluster (``on_ray``) with at least ``distributed_min_samples`` rows to read (from the parts' footers),
    Ray Data workers count; otherwise this process does. The part is the same either way (sorted by sample).
    """
    plan = plan_counts(store, tokenizer.sha256, run_id)
    distributed = on_ray and parquet_rows(store.config, plan.qa_keys + plan.general_keys) >= distributed_min_samples
    parts = (_count_on_ray if distributed else _count_here)(store, plan, tokenizer)
    rows = sorted({(r["sample_id"], r["text_md5"] or ""): r for part in parts for r in part.to_pylist()}.items())
    table = pa.Table.from_pylist([r | {"tokenizer_sha256": tokenizer.sha256, "run_id": run_id} for _, r in rows],
                                 schema=TOKEN_COUNT_SCHEMA)
    write_table(store, layout.token_counts_part(tokenizer.sha256, run_id), table)
    boostqa = sum(1 for _, r in rows if r["source"] == "boostqa")
    log.info("token counts %s (tokenizer %s): %d BoostQA items and %d documents counted%s, %d counted before",
             run_id, tokenizer.sha256[:12], boostqa, len(rows) - boostqa, " on Ray" if distributed else "",
             plan.reused)
    return TokenCountResult(run_id=run_id, tokenizer_sha256=tokenizer.sha256, boostqa=boostqa,
                            general=len(rows) - boostqa, reused=plan.reused)
