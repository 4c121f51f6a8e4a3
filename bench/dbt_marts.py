"""P3: `dbt build` of the QA/QC marts on N synthetic lake rows, against hand-written DuckDB SQL of the same work.

A private SeaweedFS gets N synthesized QA items (4 runs, parts of 250k rows) and their QC decisions. Each round, into
fresh DuckDB files, alternating which goes first: dbt builds SELECT (stg_qa__items, QC staging, int_qa_items_screened,
fct_qc_funnel, fct_qc_passed_items, fct_synthesized_items) with its tests via `run_dbt` (partial parsing warm); hand
runs the same relations as plain SQL in this process (materialised as dbt does, same globs and S3 secret), then dbt's
compiled data tests. The marts must be equal and hold the planted rows, else exit 1. A fifth run then times an
incremental build. Goals: dbt <= 60 s at 1M, <= 600 s at 10M rows; dbt / hand <= 1.5 (medians). Both sizes: lines 1-2:

    .venv/bin/python bench/dbt_marts.py                        # 1,000,000 rows, 3 rounds -> bench/results/
    .venv/bin/python bench/dbt_marts.py --rows 10000000        # 10M rows
    .venv/bin/python bench/dbt_marts.py --quick --out /tmp/b   # 20,000 rows, 1 round, no goals but equality
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import BenchRecord, Check, bench_args, finish, median_spread, spread_of  # noqa: E402
from boostqa.lake import layout  # noqa: E402
from boostqa.lake.parquet import parquet_bytes  # noqa: E402
from boostqa.lake.store import LakeConfig, ObjectStore  # noqa: E402
from boostqa.qc.stage import KEPT_SCHEMA, REMOVAL_SCHEMA  # noqa: E402
from boostqa.settings import BoostqaSettings, PortSettings  # noqa: E402
from boostqa.stack import seaweedfs  # noqa: E402
from boostqa.stack.ports import free_ports  # noqa: E402
from boostqa.stack.process import stop  # noqa: E402
from boostqa.synthesize.stage import QA_SCHEMA  # noqa: E402
from boostqa.warehouse import DBT_PROJECT_DIR, _attach_lake, dbt_env, run_dbt  # noqa: E402

PART_ROWS, RUNS = 250_000, 4
GOALS = {1_000_000: "<= 60", 10_000_000: "<= 600"}
MARTS = ["fct_qc_funnel", "fct_qc_passed_items", "fct_synthesized_items"]
SELECT = ["taxonomy_disciplines", "stg_qa__items", "path:models/staging/qc", "int_qa_items_screened", *MARTS]
SEED_CSV = DBT_PROJECT_DIR / "seeds" / "taxonomy" / "taxonomy_disciplines.csv"
DISCIPLINES, CATEGORIES = map(list, zip(*duckdb.sql(f"select discipline_id, category_id from read_csv('{SEED_CSV}')")
                                         .fetchall()[::4][:12], strict=True))  # 12 seed rows, all categories
STRATEGIES, DECISIONS = ["multi_grade", "high_difficulty"], ["agreed", "kept_refined", "confirmed_by_second_sample"]
STEPS = ["filter", "decontaminate", "exact_dedup", "near_dedup"]  # QC's order; the funnel's columns follow it
FILTER_REASONS = ["missing_answer", "malformed_options", "length_out_of_bounds", "reasoning_leftover",
                  "template_leftover", "refusal", "hedging", "language_mismatch", "repeated_ngrams"]


def private_settings(state_dir: Path) -> BoostqaSettings:
    """Our own SeaweedFS on free ports (as tests/conftest.py's isolated_settings)."""
    ports = free_ports(6, seaweedfs.GRPC_OFFSET)
    names = ("s3", "seaweed_master", "seaweed_volume", "seaweed_filer", "seaweed_admin", "seaweed_metrics")
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
    (kept,) = gen.execute("select count(*) from g where k = 0").fetchone() or (0,)
    planted.update(items=n, kept=kept)
    return first + n


def plant_run(gen: duckdb.DuckDBPyConnection, store: ObjectStore, index: int, rows: int, first: int,
              planted: Counter[str]) -> int:
    """A synthesis run of ``rows`` items in parts of PART_ROWS; returns the next free id."""
    started, run_id = time.perf_counter(), f"synthesize_202612{index + 1:02d}T060000Z_bench{index:03d}"
    for part, offset in enumerate(range(0, rows, PART_ROWS)):
        first = plant_part(gen, store, run_id, part, first, min(PART_ROWS, rows - offset), planted)
    print(f"planted {run_id}: {rows:,} items in {-(-rows // PART_ROWS)} parts, {time.perf_counter() - started:.1f} s "
          f"(lake so far {planted['bytes'] / 2**20:,.0f} MiB)", flush=True)
    return first


# The selection's relations by hand, materialised as dbt does: views (staging, intermediate) and tables (marts).
HAND_SQL = """
create schema taxonomy; create schema staging; create schema intermediate; create schema marts;
create table taxonomy.taxonomy_disciplines as select * from read_csv('{seed}', all_varchar = true);
create view staging.stg_qa__items as select * replace (cast(target_difficulty as integer) as target_difficulty,
    cast(verified_difficulty as integer) as verified_difficulty) rename (run_id as synthesis_run_id, answer_agreement
    as is_answer_agreed), options is not null as is_multiple_choice from {qa};
create view staging.stg_qc__kept as select item_id, run_id as synthesis_run_id, exact_key from {kept};
create view staging.stg_qc__removals as select item_id, run_id as synthesis_run_id, step as qc_step, reason, cast(rank
    as integer) as reason_rank, detail, duplicate_of, similarity, benchmark, benchmark_item_id from {removals};
create view intermediate.int_qa_items_screened as with f as (select * from staging.stg_qc__removals where reason_rank
    = 1), n as (select synthesis_run_id, item_id, count(*) as removal_reasons from staging.stg_qc__removals group by
    all), c as (select synthesis_run_id from staging.stg_qc__kept union select synthesis_run_id from f)
    select i.item_id, i.synthesis_run_id, i.plan_id, i.strategy, i.discipline_id, i.category_id, i.target_difficulty,
    i.verified_difficulty, i.language, case when k.item_id is not null then 'kept' when f.item_id is not null then
    'removed' when c.synthesis_run_id is not null then 'missing' else 'pending' end as qc_status, f.qc_step as
    first_qc_step, f.reason as first_reason, f.detail as first_reason_detail, f.duplicate_of, f.similarity as
    duplicate_similarity, f.benchmark, f.benchmark_item_id, coalesce(n.removal_reasons, 0) as removal_reasons
    from staging.stg_qa__items i left join staging.stg_qc__kept k using (synthesis_run_id, item_id) left join f using
    (synthesis_run_id, item_id) left join n using (synthesis_run_id, item_id) left join c using (synthesis_run_id);
create table marts.fct_qc_funnel as with t as (select {bucket}, count(*) as synthesized, {steps}, count(*) filter
    (where qc_status = 'kept') as kept, {reasons} from intermediate.int_qa_items_screened where qc_status in ('kept',
    'removed') group by all) select {bucket}, synthesized, synthesized - removed_by_filters as after_filters,
    after_filters - removed_contaminated as after_decontamination, after_decontamination - removed_exact_duplicates as
    after_exact_dedup, kept, removed_by_filters, removed_contaminated, removed_exact_duplicates,
    removed_near_duplicates, {reason_columns}, kept / synthesized as pass_rate from t;
create table marts.fct_qc_passed_items as select i.*, k.exact_key from staging.stg_qa__items i join
    staging.stg_qc__kept k using (synthesis_run_id, item_id) qualify row_number() over (partition by i.item_id order by
    i.synthesis_run_id) = 1;
create table marts.fct_synthesized_items as select * from staging.stg_qa__items qualify row_number() over (partition
    by item_id order by synthesis_run_id desc) = 1
"""


def hand_relations(bucket: str) -> list[str]:
    """HAND_SQL's statements for the lake in ``bucket``."""
    steps = zip(STEPS, ("by_filters", "contaminated", "exact_duplicates", "near_duplicates"), strict=True)
    sql = HAND_SQL.format(
        seed=SEED_CSV, bucket="synthesis_run_id, strategy, discipline_id, target_difficulty",
        **{table: f"read_parquet('s3://{bucket}/{glob}/run_id=*/*.parquet', union_by_name = true)" for table, glob in (
            ("qa", "qa"), ("kept", "qc/kept"), ("removals", "qc/removals"))},
        steps=", ".join(f"count(*) filter (where first_qc_step = '{s}') as removed_{name}" for s, name in steps),
        reasons=", ".join(f"count(*) filter (where first_reason = '{r}') as removed_{r}" for r in FILTER_REASONS),
        reason_columns=", ".join(f"removed_{r}" for r in FILTER_REASONS))
    return [statement for statement in sql.split(";") if statement.strip()]


def dbt_build(env: dict[str, str], target: Path) -> tuple[float, float, float, list[str]]:
    """One `dbt build` of the selection: (wall s, model and seed node s, test node s, data tests' compiled SQL)."""
    started = time.perf_counter()
    run_dbt(["build", "--select", *SELECT, "--indirect-selection", "cautious", "--target-path", str(target),
             "--log-path", str(target / "logs")], env)  # our own target and logs: other dbt runs may share the project
    wall = time.perf_counter() - started
    nodes = json.loads((target / "run_results.json").read_text())["results"]
    tests = [r for r in nodes if r["unique_id"].startswith(("test.", "unit_test."))]
    test_s = sum(r["execution_time"] for r in tests)
    sqls = [r["compiled_code"] for r in tests if r["unique_id"].startswith("test.")]
    return wall, sum(r["execution_time"] for r in nodes) - test_s, test_s, sqls


def hand_build(lake: LakeConfig, path: Path, tests: list[str]) -> tuple[float, float]:
    """(relations s, tests s) by hand in this process; the file has dbt's name: the catalog its tests name."""
    started = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        _attach_lake(con, lake)  # what dbt's profile sets up: httpfs from the wheel and the S3 secret
        for sql in hand_relations(lake.bucket):
            con.execute(sql)
        built = time.perf_counter()
        for sql in tests:  # as dbt runs a test: count the rows its query returns; any is a failure
            (failing,) = con.execute(f"select count(*) from ({sql}) as t").fetchone() or (0,)
            if failing:
                raise SystemExit(f"a dbt test fails on the hand-built warehouse ({failing} rows):\n{sql}")
    return built - started, time.perf_counter() - built


def mismatches(files: dict[str, Path], planted: Counter[str]) -> list[str]:
    """Where the sides' marts differ from each other (rows, a hash sum per column: independent of row and column
    order) or from the planted rows (both sides reading nothing would be equal too)."""
    sums = {side: dict[str, int]() for side in files}
    for side, path in files.items():
        with duckdb.connect(str(path), read_only=True) as con:
            for mart in MARTS:
                cursor = con.execute(f"select count(*) as rows_, sum(hash(columns(*))) from marts.{mart}")
                row = cursor.fetchone() or ()
                sums[side] |= {f"{mart}.{d[0]}": v for d, v in zip(cursor.description, row, strict=True)}
    planted_rows = {"fct_synthesized_items.rows_": planted["items"], "fct_qc_passed_items.rows_": planted["kept"]}
    found = [f"{side} vs planted: {k}: {got.get(k)} != {v}" for side, got in sums.items()
             for k, v in planted_rows.items() if got.get(k) != v]
    dbt, hand = sums["dbt"], sums.get("hand", sums["dbt"])
    return found + [f"dbt vs hand: {k}: {dbt.get(k)} != {hand.get(k)}" for k in sorted(dbt.keys() | hand.keys())
                    if dbt.get(k) != hand.get(k)]


def measure(lake: LakeConfig, rows: int, rounds: int, quick: bool, workdir: Path) -> tuple[BenchRecord, list[str]]:
    store, gen, planted, first = ObjectStore(lake), duckdb.connect(), Counter[str](), 0
    for index in range(RUNS):
        first = plant_run(gen, store, index, rows // RUNS + (rows % RUNS if index == RUNS - 1 else 0), first, planted)
    dbt_file, hand_file, target = workdir / "warehouse.duckdb", workdir / "hand" / "warehouse.duckdb", workdir / "t"
    hand_file.parent.mkdir()
    env = dbt_env(lake, dbt_file)  # one path for every round: a changed profile would void dbt's partial parsing
    if not quick:  # untimed: every timed build then parses partially, as a project's repeated builds do
        run_dbt(["parse", "--target-path", str(target), "--log-path", str(target / "logs")], env)
    samples, diffs, tests = dict[str, list[float]](), list[str](), list[str]()  # tests: from round 1, dbt first
    for index in range(rounds):
        for path in (dbt_file, hand_file, dbt_file.with_suffix(".duckdb.wal"), hand_file.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)  # a full refresh into a new warehouse, each side
        for side in ("dbt", "hand") if index % 2 == 0 else ("hand", "dbt"):
            if side == "dbt":
                wall, model_s, test_s, tests = dbt_build(env, target)
            else:
                model_s, test_s = hand_build(lake, hand_file, tests)
                wall = model_s + test_s
            for key, value in (("seconds", wall), ("model_seconds", model_s), ("test_seconds", test_s)):
                samples.setdefault(f"{side}_{key}", []).append(value)
        samples.setdefault("ratio", []).append(samples["dbt_seconds"][-1] / samples["hand_seconds"][-1])
        found = mismatches({"dbt": dbt_file, "hand": hand_file}, planted)
        diffs += [f"round {index + 1}: {d}" for d in found]
        print(f"round {index + 1}: dbt {samples['dbt_seconds'][-1]:.1f} s, hand {samples['hand_seconds'][-1]:.1f} s "
              f"(models {samples['hand_model_seconds'][-1]:.1f} + tests {samples['hand_test_seconds'][-1]:.1f}), "
              f"ratio {samples['ratio'][-1]:.2f}; marts {'DIFFERENT' if found else 'equal'}", flush=True)
    planted["data_tests"] = len(tests)  # dbt's, run on both sides
    # Incremental (informational): a fifth run, built into the last round's dbt warehouse.
    plant_run(gen, store, RUNS, rows // RUNS, first, planted)
    samples["incremental_seconds"] = [dbt_build(env, target)[0]]
    diffs += [f"incremental: {d}" for d in mismatches({"dbt": dbt_file}, planted)]
    print(f"incremental dbt build: {samples['incremental_seconds'][0]:.1f} s", flush=True)
    return bench_record(samples, diffs, rows, rounds, quick, planted), diffs


def bench_record(samples: dict[str, list[float]], diffs: list[str], rows: int, rounds: int, quick: bool,
                 planted: Counter[str]) -> BenchRecord:
    mid = {k: median_spread(v)[0] for k, v in samples.items()}
    dbt_s, hand_s = mid["dbt_seconds"], mid["hand_seconds"]
    checks = [
        Check(measure=f"dbt build seconds, full refresh of the QA/QC marts, {rows:,} rows (median)", ours=dbt_s,
              anchor=hand_s, unit="s", value=dbt_s, value_unit="s", spread=spread_of(samples["dbt_seconds"]),
              goal=None if quick else GOALS.get(rows)),
        Check(measure="dbt build / hand-written DuckDB SQL, same relations and tests (median)", ours=dbt_s,
              anchor=hand_s, unit="s", value=mid["ratio"], value_unit="x", spread=spread_of(samples["ratio"]),
              goal=None if quick else "<= 1.5"),
        Check(measure="mart aggregates differing: dbt vs hand SQL, either vs planted rows (all builds)",
              ours=len(diffs), value=len(diffs), value_unit="differences", goal="== 0"),
        *(Check(measure=f"{what}: dbt's node seconds / hand SQL's (median)", ours=mid[f"dbt_{key}"], anchor=mid[
            f"hand_{key}"], unit="s", value=mid[f"dbt_{key}"] / mid[f"hand_{key}"], value_unit="x")
          for what, key in (("models and seed", "model_seconds"), ("data and unit tests", "test_seconds"))),
        Check(measure=f"dbt build seconds, incremental, after a fifth run of {rows // RUNS:,} items",
              ours=mid["incremental_seconds"], unit="s", value=mid["incremental_seconds"], value_unit="s")]
    return BenchRecord.create(
        bench="dbt_marts", title=f"dbt build of the QA/QC marts vs hand-written DuckDB SQL, {rows:,} rows",
        quick=quick, checks=checks, samples=samples,
        params={"rows": rows, "rounds": rounds, "runs": RUNS, "part_rows": PART_ROWS, "select": SELECT,
                "counts": dict(planted), "differences": diffs[:20], "dbt_threads": 1})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--rows", type=int, default=None, help="QA items, default 1,000,000 (quick: 20,000)")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (quick: 1)")
    args = parser.parse_args()
    rows, rounds = args.rows or (20_000 if args.quick else 1_000_000), args.rounds or (1 if args.quick else 3)
    with tempfile.TemporaryDirectory(prefix="bench-dbt-marts-") as tmp:
        settings = private_settings(Path(tmp) / "state")
        try:
            print(f"SeaweedFS: {seaweedfs.up(settings)}", flush=True)  # with the empty schema parts dbt's globs need
            result, diffs = measure(seaweedfs.lake_config(settings), rows, rounds, args.quick, Path(tmp))
        finally:
            stop(seaweedfs.service(settings))
    finish(result, args.out)
    if diffs:
        raise SystemExit("MISMATCH: dbt's marts differ from the hand SQL's or the planted counts:\n" + "\n".join(diffs))


if __name__ == "__main__":
    main()
