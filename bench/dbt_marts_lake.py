"""The synthetic lake P3 (bench/dbt_marts.py) builds from: QA items and their QC parts, planted in DuckDB by hash."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa

from boostqa.annotate.taxonomy import TAXONOMY_DIR
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import KEPT_SCHEMA, QA_SCHEMA, REMOVAL_SCHEMA
from boostqa.settings import BoostqaSettings, PortSettings
from boostqa.vocabulary import VOCABULARIES
from boostqa_dev.stack import seaweedfs
from boostqa_dev.stack.ports import free_ports

PART_ROWS, RUNS = 250_000, 4
SEED_CSV = TAXONOMY_DIR / "taxonomy_disciplines.csv"  # the dbt seed (boostqa/resources/taxonomy)
DISCIPLINES, CATEGORIES = map(list, zip(*duckdb.sql(f"select discipline_id, category_id from read_csv('{SEED_CSV}')")
                                         .fetchall()[::4][:12], strict=True))  # 12 seed rows, all categories
STRATEGIES, DECISIONS = ["multi_grade", "high_difficulty"], ["agreed", "kept_refined", "confirmed_by_second_sample"]
STEPS = ["filter", "decontaminate", "exact_dedup", "near_dedup"]  # QC's order; the funnel's columns follow it
FILTER_REASONS = list(VOCABULARIES["qc_filter_reason"])  # the funnel's removed_* columns, in QC's filter order


def private_settings(state_dir: Path, ray: bool = False) -> BoostqaSettings:
    """Our own SeaweedFS on free ports (as tests/conftest.py's isolated_settings); with ``ray``, a Ray head's too."""
    names = ("s3", "seaweed_master", "seaweed_volume", "seaweed_filer", "seaweed_admin", "seaweed_metrics",
             *(("ray_dashboard", "ray_gcs", "ray_client", "ray_dashboard_agent") if ray else ()))
    ports = free_ports(len(names), seaweedfs.GRPC_OFFSET)  # one draw: no Ray port on a SeaweedFS gRPC port
    return BoostqaSettings(state_dir=state_dir, ports=PortSettings(**dict(zip(names, ports, strict=True))))


def _put(gen: duckdb.DuckDBPyConnection, store: ObjectStore, key: str, sql: str, schema: pa.Schema) -> int:
    """Write the rows of ``sql`` as a parquet part with exactly ``schema`` (names, order, types); returns its bytes."""
    store.put_bytes(key, data := parquet_bytes(gen.execute(sql).fetch_arrow_table().select(schema.names).cast(schema)))
    return len(data)


def plant_part(gen: duckdb.DuckDBPyConnection, store: ObjectStore, run_id: str, part: int, first: int, n: int,
               planted: Counter[str]) -> int:
    """One shard of a run: ``n`` items with ids from ``first`` and their QC parts, made in DuckDB (vectorised,
    pseudo-random by hash of the id); returns the next free id and counts what it planted into ``planted``."""
    name = layout.part_name(part)
    gen.execute(  # k: 0 kept (85%), else the 1-based QC step that removed the item
        f"create or replace temp table g as select i, 'job-' || i as item_id, '{run_id}' as run_id, "
        f"'plan_{run_id[-8:]}' as plan_id, {STRATEGIES}[1 + (hash(i, 's') % 2)::int] as strategy, "
        f"'seed-' || i % 50000 as seed_id, 1 + (hash(i, 'd') % 12)::int as d, {DISCIPLINES}[d] as discipline_id, "
        f"{CATEGORIES}[d] as category_id, 1 + (hash(i, 't') % 5)::int as target_difficulty, "
        "greatest(1, least(5, target_difficulty + (hash(i, 'v') % 3)::int - 1)) as verified_difficulty, "
        "(hash(i, 'o') % 1000)::int as o, (hash(i, 'f') % 9)::int as f, 'smollm2-135m-instruct' as m, "
        "case when o < 850 then 0 when o < 940 then 1 when o < 955 then 2 when o < 975 then 3 else 4 end as k "
        f"from range({first}, {first + n}) r(i)")
    planted["bytes"] += _put(gen, store, layout.qa_prefix(run_id) + name, (
        "select *, ['en', 'zh'][1 + (hash(i, 'l') % 2)::int] as language, 'Question ' || i || ' in ' || "
        "discipline_id || ': which statement holds?' as question, case when o % 7 > 0 then ['A ' || i, 'B ' || i, "
        "'C ' || i, 'D ' || i] end as options, 'answer ' || i as draft_answer, case when options is not null then "
        "['A', 'B', 'C', 'D'][1 + (hash(i, 'a') % 4)::int] end as draft_option, draft_answer as refined_answer, "
        f"draft_option as refined_option, hash(i, 'g') % 5 > 0 as answer_agreement, {DECISIONS}[1 + (hash(i, 'r') "
        "% 3)::int] as refine_decision, 'Reason about ' || i || ' step by step.' as reasoning, "
        "m as generator_model, m as refiner_model, m as annotator_model, 'gen-v3' as "
        "generator_prompt_version, 'refine-v2' as refiner_prompt_version, 'annotate-v4' as verify_prompt_version, "
        "0.7::double as temperature, 0.95::double as top_p, i % 8 as sampling_seed, 'gen-' || i as "
        "generator_request_id, 'ref-' || i as refiner_request_id, 'ver-' || i as verify_request_id, 300 + hash(i, "
        "'p') % 2700 as prompt_tokens, 50 + hash(i, 'c') % 1500 as completion_tokens from g"), QA_SCHEMA)
    planted["bytes"] += _put(gen, store, f"{layout.QC}/kept/run_id={run_id}/{name}",
                             "select *, 'key-' || i as exact_key from g where k = 0", KEPT_SCHEMA)
    planted["bytes"] += _put(gen, store, f"{layout.QC}/removals/run_id={run_id}/{name}", (
        f"select *, {STEPS}[k] as step, [{FILTER_REASONS}[f + 1], 'benchmark_contaminated', 'exact_duplicate', "
        "'near_duplicate'][k] as reason, 1 as rank, 'planted ' || reason as detail, case when k > 2 then 'job-' || "
        "(i - 1) end as duplicate_of, [null, null, 1.0, 0.9][k]::double as similarity, case when k = 2 then 'mmlu' "
        "end as benchmark, case when k = 2 then 'mmlu:test:all:' || i end as benchmark_item_id from g where k > 0 "
        f"union all by name select item_id, run_id, 'filter' as step, {FILTER_REASONS}[(f + 1) % 9 + 1] as reason, "
        "2 as rank, 'planted second' as detail from g where k = 1 and i % 3 = 0"), REMOVAL_SCHEMA)
    commit_shard(store, layout.qa_prefix(run_id), part)  # the markers the staging models' commit rule looks for
    (kept,) = gen.execute("select count(*) from g where k = 0").fetchone() or (0,)
    planted.update(items=n, kept=kept)
    return first + n


def plant_run(gen: duckdb.DuckDBPyConnection, store: ObjectStore, index: int, rows: int, first: int,
              planted: Counter[str]) -> int:
    """A synthesis run of ``rows`` items in parts of PART_ROWS; returns the next free id."""
    started, run_id = time.perf_counter(), f"synthesize_202612{index + 1:02d}T060000Z_bench{index:03d}"
    for part, offset in enumerate(range(0, rows, PART_ROWS)):
        first = plant_part(gen, store, run_id, part, first, min(PART_ROWS, rows - offset), planted)
    store.put_bytes(layout.qc_marker(run_id), b"")  # the run's QC is committed
    print(f"planted {run_id}: {rows:,} items in {-(-rows // PART_ROWS)} parts, {time.perf_counter() - started:.1f} s "
          f"(lake so far {planted['bytes'] / 2**20:,.0f} MiB)", flush=True)
    return first
