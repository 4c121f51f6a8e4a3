"""P3: `dbt build` of the QA/QC marts on N synthetic lake rows, against hand-written DuckDB SQL of the same work.

A private SeaweedFS gets N synthesized QA items (4 runs, parts of 250k rows) and their QC decisions. Each round, into
fresh DuckDB files, alternating which goes first: dbt builds SELECT (stg_qa__items, QC staging, int_qa_items_screened,
fct_qc_funnel, fct_qc_passed_items, fct_synthesized_items) with its tests through dbtRunner in this process, as
cosmos' DBT_RUNNER invocation mode runs it in an Airflow worker (dbt imported and partial parsing warm before the
timer); hand runs the same relations as plain SQL in this process (materialised as dbt does, same globs and S3
secret), then dbt's compiled data tests. The marts must be equal and hold the planted rows, else exit 1. A fifth run
then times an incremental build, and one more full build through the `dbt` command line (a fresh process: what a
hand-run build costs) is reported beside it. Goals: dbt <= 60 s at 1M, <= 600 s at 10M rows; dbt / hand <= 1.5
(medians). The 10M run is its own benchmark (dbt_marts_10m), so both sizes stay in the records:

    .venv/bin/python bench/dbt_marts.py                        # 1,000,000 rows, 3 rounds -> bench/results/
    .venv/bin/python bench/dbt_marts.py --rows 10000000        # 10M rows
    .venv/bin/python bench/dbt_marts.py --quick --out /tmp/b   # 20,000 rows, 1 round, no goals but equality
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dbt_marts_lake import (  # noqa: E402
    FILTER_REASONS,
    PART_ROWS,
    RUNS,
    SEED_CSV,
    STEPS,
    plant_run,
    private_settings,
)
from bench.record import BenchRecord, Check, bench_args, finish, median_spread, spread_of  # noqa: E402
from boostqa.lake.store import LakeConfig, ObjectStore  # noqa: E402
from boostqa.warehouse import _attach_lake, dbt_env, run_dbt  # noqa: E402
from boostqa_dev.checkout import PROJECT_ROOT, use_checkout_defaults  # noqa: E402
from boostqa_dev.stack import seaweedfs  # noqa: E402
from boostqa_dev.stack.process import stop  # noqa: E402

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULT_ROWS, TEN_MILLION = 1_000_000, 10_000_000
GOALS = {DEFAULT_ROWS: "<= 60", TEN_MILLION: "<= 600"}
MARTS = ["fct_qc_funnel", "fct_qc_passed_items", "fct_synthesized_items"]
SELECT = ["taxonomy_disciplines", "stg_qa__items", "path:models/staging/qc", "int_qa_items_screened", *MARTS]
# The selection's relations by hand, materialised as dbt does: views (staging, intermediate) and tables (marts).
HAND_SQL = """
create schema taxonomy; create schema staging; create schema intermediate; create schema marts;
create table taxonomy.taxonomy_disciplines as select * from read_csv('{seed}', all_varchar = true);
create view staging.stg_qa__items as select * replace (cast(target_difficulty as integer) as target_difficulty,
    cast(verified_difficulty as integer) as verified_difficulty) rename (run_id as synthesis_run_id, answer_agreement
    as is_answer_agreed), options is not null as is_multiple_choice from {qa};
create view staging.stg_qc__kept as select item_id, run_id as synthesis_run_id, exact_key from {kept}
    where run_id != 'general_corpus';
create view staging.stg_qc__general_kept as select item_id as doc_id, exact_key from {kept}
    where run_id = 'general_corpus';
create view staging.stg_qc__removals as select item_id, run_id as synthesis_run_id, step as qc_step, reason, cast(rank
    as integer) as reason_rank, detail, duplicate_of, similarity, benchmark, benchmark_item_id from {removals}
    where run_id != 'general_corpus';
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


def dbt_in_process(args: list[str], env: dict[str, str]) -> None:
    """`dbt <args>` through dbtRunner in this process (cosmos' DBT_RUNNER mode), with ``env`` set for the call; then
    dbt-duckdb's process-wide DuckDB handle is closed, as our DAG runner does after each run, so the file is free."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        result = dbtRunner().invoke([*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                                     str(DBT_PROJECT_DIR)])
    finally:
        os.environ.clear()
        os.environ.update(saved)
        DuckDBConnectionManager.close_all_connections()
    if not result.success:
        raise SystemExit(f"`dbt {' '.join(args)}` failed in process: {result.exception or 'see the output above'}")


def dbt_build(env: dict[str, str], target: Path, cli: bool = False) -> tuple[float, float, float, list[str]]:
    """One `dbt build` of the selection, in process (``cli``: through the `dbt` command line, a fresh process):
    (wall s, model and seed node s, test node s, data tests' compiled SQL)."""
    args = ["build", "--select", *SELECT, "--indirect-selection", "cautious", "--target-path", str(target),
            "--log-path", str(target / "logs")]  # our own target and logs: other dbt runs may share the project
    started = time.perf_counter()
    run_dbt(args, env) if cli else dbt_in_process(args, env)
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
    # untimed: dbt imported, and every timed build then parses partially, as a worker's repeated builds do
    dbt_in_process(["parse", "--target-path", str(target), "--log-path", str(target / "logs")], env)
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
    if not quick:  # informational: the same full refresh through the command line (interpreter and dbt start-up)
        for path in (dbt_file, dbt_file.with_suffix(".duckdb.wal")):
            path.unlink(missing_ok=True)
        samples["cli_seconds"] = [dbt_build(env, target, cli=True)[0]]
        print(f"full dbt build through the dbt command line: {samples['cli_seconds'][0]:.1f} s", flush=True)
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
        *(Check(measure=f"{what}: dbt's node seconds summed over its {_profile_threads()} threads / hand SQL's one "
                        "connection (median)", ours=mid[f"dbt_{key}"], anchor=mid[
            f"hand_{key}"], unit="s", value=mid[f"dbt_{key}"] / mid[f"hand_{key}"], value_unit="x")
          for what, key in (("models and seed", "model_seconds"), ("data and unit tests", "test_seconds"))),
        Check(measure=f"dbt build seconds, incremental, after a fifth run of {rows // RUNS:,} items",
              ours=mid["incremental_seconds"], unit="s", value=mid["incremental_seconds"], value_unit="s"),
        *(Check(measure="dbt build seconds, full refresh through the dbt command line (a fresh process, once)",
                ours=mid["cli_seconds"], anchor=hand_s, unit="s", value=mid["cli_seconds"] / hand_s, value_unit="x")
          for _ in ("cli_seconds",) if "cli_seconds" in mid)]
    return BenchRecord.create(
        bench="dbt_marts_10m" if rows == TEN_MILLION else "dbt_marts",  # both sizes stay in the records
        title=f"dbt build of the QA/QC marts vs hand-written DuckDB SQL, {rows:,} rows",
        quick=quick, checks=checks, samples=samples,
        params={"rows": rows, "rounds": rounds, "runs": RUNS, "part_rows": PART_ROWS, "select": SELECT,
                "counts": dict(planted), "differences": diffs[:20], "dbt_threads": _profile_threads(),
                "dbt_invocation": "dbtRunner in process"})


def _profile_threads() -> int:
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["boostqa"]["outputs"]["dev"]
    return int(profile.get("threads", 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--rows", type=int, default=None, help="QA items, default 1,000,000 (quick: 20,000)")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (quick: 1)")
    args = parser.parse_args()
    use_checkout_defaults()  # run_dbt's project and the settings' paths: this checkout's, as `boostqa` sets them
    rows, rounds = args.rows or (20_000 if args.quick else DEFAULT_ROWS), args.rounds or (1 if args.quick else 3)
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
