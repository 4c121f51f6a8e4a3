"""The synthesis SIGKILL row: a synthesis run killed once its first shard is committed, then rerun.

Jobs are made from the bundled seed source the way the plan's export makes them (one per seed, high-difficulty,
one level above the seed), written as a plan's ``synthesis_jobs.parquet`` and frozen into a run. The worker runs the
run's shards with the three roles on the real server, as the `synthesize_shard` tasks do. The kill lands while the
next shard is calling the server: the rerun must skip the finished shard and end every job exactly once, as an item
or a reject with its reason.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pyarrow as pa

from bench.faults_kill import row_store, run_worker, worker_spec
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.ingest.config import get_source
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import split_rows
from boostqa.lake import layout
from boostqa.lake.commits import read_committed_shards
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import LakeConfig
from boostqa.settings import RESOURCES
from boostqa.synthesize.records import SynthesisJob
from boostqa.synthesize.stage import snapshot_jobs
from boostqa_dev.faults.rows import FaultRow, outcome_counts

PLAN = "plan_faults"


def _jobs(count: int) -> list[SynthesisJob]:
    source = get_source(RESOURCES / "seed_sources.yaml", "open_stem_qa")
    seeds, _ = split_rows(source, fetch_source(source), date(2026, 1, 5), "faults")
    taxonomy = load_taxonomy()
    discipline = next(iter(taxonomy.category_of))
    jobs = []
    for n, seed in enumerate(seeds[:count]):
        target = min(5, (seed.difficulty_hint or 2) + 1)
        jobs.append(SynthesisJob(
            job_id=f"job-{n:04d}", plan_id=PLAN, strategy="high_difficulty", replica=0, seed_id=seed.seed_id,
            discipline_id=discipline, category_id=taxonomy.category_of[discipline], language=seed.language,
            seed_question=seed.question, seed_options=seed.options, seed_answer=seed.answer,
            seed_difficulty=target - 1, target_difficulty=target, target_grade_band=taxonomy.grade_band_of[target]))
    return jobs


def synthesis_kill_row(config: LakeConfig, upstream: str, model: str, folder: Path, jobs: int = 8) -> FaultRow:
    """Kill a synthesis run after its first committed shard; the rerun ends every job once."""
    store = row_store(config, "kill-synthesis")
    rows = [j.model_dump() | {"job_order": n} for n, j in enumerate(_jobs(jobs))]
    store.put_bytes(layout.plan_object(PLAN, "synthesis_jobs.parquet"), parquet_bytes(pa.Table.from_pylist(rows)))
    run_id = "synthesize_faults_kill"
    frozen = snapshot_jobs(store, PLAN, run_id)
    shard_size = max(frozen // 4, 1)
    spec = worker_spec(store, stage="synthesize", run_id=run_id, base_url=upstream, model=model, jobs=frozen,
                       shard_size=shard_size, cache=str(folder / "kill_synthesis.sqlite"))
    prefix = layout.qa_prefix(run_id)
    started = time.monotonic()
    killed, _ = run_worker(spec, lambda: any("_SUCCESS." in k for k in store.list_keys(prefix)), 900,
                           folder / "kill_synthesis.log")
    done_before = sum("_SUCCESS." in k for k in store.list_keys(prefix))
    run_worker(spec, None, 0, folder / "kill_synthesis.log")
    items = read_committed_shards(store, prefix, layout.QA, ["item_id"])
    rejects = read_committed_shards(store, layout.stage_quarantine_prefix("synthesize", run_id), layout.QA,
                                    ["item_id", "reason"])
    done, reasons, lost, duplicated = outcome_counts(
        [str(r["job_id"]) for r in rows], items["item_id"].to_pylist() if items is not None else [],
        list(zip(rejects["item_id"].to_pylist(), rejects["reason"].to_pylist(), strict=True)) if rejects is not None
        else [])
    shards = -(-frozen // shard_size)
    return FaultRow(fault="SIGKILL synthesis worker mid-run", injected=int(killed), jobs=frozen, completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, expect_reasons=sorted(reasons),
                    wall_s=round(time.monotonic() - started, 1),
                    checks={"killed with shards left": killed and done_before < shards,
                            "every shard committed after the rerun": sum(
                                "_SUCCESS." in k for k in store.list_keys(prefix)) == shards})
