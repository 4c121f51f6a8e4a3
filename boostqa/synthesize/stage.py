"""The synthesis stage on the lake: snapshot the plan's jobs, then run shards idempotently with completion markers."""

from __future__ import annotations

import io
import logging
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard, read_committed_shards
from boostqa.lake.parquet import write_rows, write_table
from boostqa.lake.read import dbt_export, read_object
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import LEDGER_SCHEMA, QA_SCHEMA, REJECT_SCHEMA, SOLVE_SCHEMA
from boostqa.llm.ledger import Ledger
from boostqa.synthesize.records import SynthesisJob
from boostqa.synthesize.runner import Roles, Synthesizer

log = logging.getLogger(__name__)
STAGE = "synthesize"


class SynthesisShardResult(BaseModel):
    """Small, XCom-friendly summary of one shard."""

    run_id: str
    shard: int
    skipped: bool
    jobs: int
    items: int
    rejects: int
    llm_calls: int
    pending: int = 0  # jobs the spend guard left for the next run (neither item nor reject)
    budget_note: str | None = None


def snapshot_jobs(store: ObjectStore, plan_id: str, run_id: str, limit: int | None = None) -> int:
    """Freeze the plan's jobs for this run (first ``limit`` in job order); an existing snapshot is kept.

    Raises:
        LakeError: the plan has no exported jobs (run warehouse_build first).
    """
    key = layout.synthesis_jobs_snapshot(run_id)
    existing = store.get_bytes_or_none(key)
    if existing is not None:
        rows: int = pq.read_metadata(io.BytesIO(existing)).num_rows
        log.info("synthesis %s resumes on its snapshot of %d jobs", run_id, rows)
        return rows
    source = layout.plan_object(plan_id, "synthesis_jobs.parquet")
    data = store.get_bytes_or_none(source)
    if data is None:
        raise LakeError(f"no synthesis jobs at {store.config.uri(source)}: run the warehouse_build DAG first")
    table = dbt_export(data).sort_by("job_order")
    done = jobs_done_elsewhere(store, run_id)
    if done:  # another run on the same plan already finished these: take the plan's next jobs instead
        table = table.filter(pc.invert(pc.is_in(table["job_id"], pa.array(sorted(done), pa.string()))))
    if limit is not None:
        table = table.slice(0, limit)
    write_table(store, key, table)
    log.info("synthesis %s: %d jobs from plan %s (limit %s; %d of the plan's jobs already done by other runs)",
             run_id, table.num_rows, plan_id, limit, len(done))
    return cast(int, table.num_rows)


def jobs_done_elsewhere(store: ObjectStore, run_id: str) -> set[str]:
    """Job ids another synthesis run finished (an item or a reject): a new run never takes them again."""
    done: set[str] = set()
    for prefix in (f"{layout.QA}/", layout.stage_quarantine_root(STAGE)):
        table = read_committed_shards(store, prefix, layout.QA, ["item_id", "run_id"])
        if table is not None:
            done.update(table.filter(pc.not_equal(table["run_id"], run_id))["item_id"].to_pylist())
    return done


def shard_indexes(jobs: int, shard_size: int) -> list[int]:
    """Shard numbers for ``jobs`` jobs (what the DAG maps over)."""
    return list(range((jobs + shard_size - 1) // shard_size))


def load_shard(store: ObjectStore, run_id: str, shard: int, shard_size: int) -> list[SynthesisJob]:
    """The jobs of one shard, from the run's snapshot."""
    table = read_object(store, layout.synthesis_jobs_snapshot(run_id))
    rows = table.slice(shard * shard_size, shard_size).to_pylist()
    return [SynthesisJob.model_validate(row) for row in rows]


def synthesize_shard(store: ObjectStore, run_id: str, shard: int, shard_size: int, synthesizer: Synthesizer,
                     roles: Roles) -> SynthesisShardResult:
    """Run one shard unless its marker exists; write items, rejects and ledger, then the marker (last)."""
    prefix = layout.qa_prefix(run_id)
    marker = layout.shard_marker(prefix, shard)
    if store.get_bytes_or_none(marker) is not None:
        log.info("synthesis %s shard %d is complete: skipped", run_id, shard)
        return SynthesisShardResult(run_id=run_id, shard=shard, skipped=True, jobs=0, items=0, rejects=0, llm_calls=0)
    jobs = load_shard(store, run_id, shard, shard_size)
    for client in roles.clients:
        client.ledger = Ledger()
    out = synthesizer.run_shard(jobs, roles, run_id, label=f"synthesize {run_id}/{shard}")
    name = layout.part_name(shard)
    ledger_rows = roles.ledger_rows()
    tokens: dict[str, list[int]] = {}
    for row in ledger_rows:  # every turn of every role spent on the item, replayed turns included
        spent = tokens.setdefault(row.item_id, [0, 0])
        spent[0] += row.prompt_tokens
        spent[1] += row.completion_tokens
    items = [i.model_dump() | dict(zip(("prompt_tokens", "completion_tokens"), tokens.get(i.item_id, [0, 0]),
                                       strict=True)) for i in out.items]
    write_rows(store, prefix + name, items, QA_SCHEMA)
    replica = {job.job_id: job.replica for job in jobs}
    write_rows(store, layout.stage_quarantine_prefix(STAGE, run_id) + name,
               [r.model_dump() | {"replica": replica[r.item_id]} for r in out.rejects], REJECT_SCHEMA)
    write_rows(store, layout.ledger_prefix(STAGE, run_id) + name, [r.model_dump() for r in ledger_rows], LEDGER_SCHEMA)
    if out.solves or synthesizer.solve is not None:  # a solve-rate policy: every shard writes its (maybe empty) part
        write_rows(store, layout.solves_prefix(run_id) + name, [s.model_dump() for s in out.solves], SOLVE_SCHEMA)
    # Written even when the spend guard stopped the shard: its pending jobs have no outcome, so the next plan issues
    # them again under the same job ids, and their calls made so far replay from the cache for free.
    commit_shard(store, prefix, shard)  # last: the shard's parts in every table become visible
    calls = sum(1 for r in ledger_rows if not r.cache_hit)
    log.info("synthesis %s shard %d: %d jobs -> %d items, %d rejects, %d pending, %d LLM calls", run_id, shard,
             len(jobs), len(out.items), len(out.rejects), len(out.pending), calls)
    if out.pending:
        log.warning("synthesis %s shard %d stopped at its spend cap: %s; %d jobs left for the next run", run_id,
                    shard, out.budget_note, len(out.pending))
    return SynthesisShardResult(run_id=run_id, shard=shard, skipped=False, jobs=len(jobs), items=len(out.items),
                                rejects=len(out.rejects), llm_calls=calls, pending=len(out.pending),
                                budget_note=out.budget_note)


def open_jobs(store: ObjectStore, run_id: str, jobs: int, shard_size: int) -> int:
    """Jobs of the run's shards that have no completion marker yet (what a resumed run still has to pay for)."""
    prefix = layout.qa_prefix(run_id)
    done = {k for k in store.list_keys(prefix) if "_SUCCESS." in k}
    return sum(min(shard_size, jobs - shard * shard_size) for shard in shard_indexes(jobs, shard_size)
               if layout.shard_marker(prefix, shard) not in done)
