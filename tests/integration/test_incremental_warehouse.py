"""The incremental warehouse on the real lake: the facts that grow with the corpus (synthesized items, QC decisions
and passed items, the LLM ledger, mixture lineage, samples seen) built incrementally over two days of runs equal a
full refresh of the same lake, row for row.

Day 1 writes a complete synthesis run A (items, ledger, QC), the first shard of a run B that started earlier and
is still going (no QC yet), an annotate ledger, mixture v1 and a training run on it. Day 2 adds B's late shard and
its QC (a run id the warehouse has already loaded; B also makes a few of A's item ids, so "first run wins" moves
them from A to B, and v1's lineage and the training run on it follow), a run C that makes A's item ids again
(latest run wins), another annotate ledger, mixture v2 and a training run on it. Warehouse A is built after day 1
and again (incrementally) after day 2; warehouse B once, with --full-refresh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from boostqa.benchmarks.loader import load_items
from boostqa.lake import layout
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import LEDGER_SCHEMA, LINEAGE_SCHEMA, QA_SCHEMA, TRAINING_SAMPLES_SCHEMA
from boostqa.qc.run import run_qc
from boostqa.settings import BoostqaSettings
from boostqa.synthesize.stage import STAGE as SYNTHESIZE
from boostqa.warehouse import dbt_env, query, run_dbt
from boostqa_dev.stack.seaweedfs import lake_config
from tests.boostqa.qc.planted import planted_items
from tests.conftest import lake_rows, reset_lake_prefixes

pytestmark = pytest.mark.integration

RUN_B = "synthesize_20261201T050000Z_bbbbbbbb"  # starts first; day 1: shard 0 only; day 2: shard 1 and QC
RUN_A = "synthesize_20261201T060000Z_aaaaaaaa"  # day 1, complete
RUN_C = "synthesize_20261202T060000Z_cccccccc"  # day 2: makes items of run A again
ANNOTATE_1, ANNOTATE_2 = "annotate_20261201T050000Z_11111111", "annotate_20261202T050000Z_22222222"
TRAIN_1, TRAIN_2 = "midtrain_20261201T200000Z_33333333", "midtrain_20261202T200000Z_44444444"
SEQ_LEN = 8
INCREMENTAL = ["fct_synthesized_items", "fct_qc_decisions", "fct_qc_passed_items", "fct_llm_calls",
               "fct_mixture_lineage", "fct_checkpoint_samples"]
SELECT = ["taxonomy_disciplines", "llm_prices", "path:models/staging/qa", "path:models/staging/qc",
          "path:models/staging/llm", "path:models/staging/training", "stg_mixtures__lineage", "int_qa_items_screened",
          *INCREMENTAL, "fct_llm_usage"]
SHARED = {f"la-zh-{i:03d}" for i in range(5)}  # run B's versions of these keep run A's item ids
LAKE_PREFIXES = ["qa/", f"{layout.QUARANTINE}/{SYNTHESIZE}/", "qc/", "llm/", "mixtures/", "training/"]


def _items(run_id: str, seed: int, prefix: str = "", unprefixed: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """A synthesis run's items: the planted QC fixture (kept items, duplicates, contaminated and broken ones), its
    item ids prefixed except ``unprefixed``."""
    planted = planted_items(load_items(splits="all"), seed=seed)
    return [{n: p.row.get(n) for n in QA_SCHEMA.names} | {
        "item_id": p.row["item_id"] if p.row["item_id"] in unprefixed else prefix + p.row["item_id"],
        "run_id": run_id, "plan_id": f"plan_{run_id[-8:]}"} for p in planted]


def _write_shard(store: ObjectStore, run_id: str, shard: int, items: list[dict[str, Any]]) -> None:
    """What synthesize_shard writes: the shard's items part and its ledger part (three turns per item, the refiner's
    replayed from the cache with the original call's request id)."""
    store.put_bytes(layout.qa_prefix(run_id) + layout.part_name(shard),
                    parquet_bytes(pa.Table.from_pylist(items, schema=QA_SCHEMA)))
    turns = []
    for n, item in enumerate(items):
        for role, cached in (("generator", False), ("annotator", False), ("refiner", n % 3 == 0)):
            turns.append({"run_id": run_id, "role": role, "model": f"{role}-model", "item_id": item["item_id"],
                          "request_id": f"req-{item['item_id']}-{role}", "prompt_version": "v1",
                          "prompt_tokens": 100 + n, "completion_tokens": 20 + n % 7,
                          "latency_ms": 0.0 if cached else 250.0 + n, "cache_hit": cached, "status": "ok",
                          "attempts": 0 if cached else 1})
    _write_ledger(store, SYNTHESIZE, run_id, shard, turns)
    commit_shard(store, layout.qa_prefix(run_id), shard)  # last, as synthesize_shard does


def _write_ledger(store: ObjectStore, stage: str, run_id: str, shard: int, turns: list[dict[str, Any]]) -> None:
    store.put_bytes(layout.ledger_prefix(stage, run_id) + layout.part_name(shard),
                    parquet_bytes(pa.Table.from_pylist(turns, schema=LEDGER_SCHEMA)))


def _annotate_ledger(store: ObjectStore, run_id: str) -> None:
    _write_ledger(store, "annotate", run_id, 0, [
        {"run_id": run_id, "role": "annotator", "model": "annotator-model", "item_id": f"seed-{i}",
         "request_id": f"req-{run_id[-8:]}-{i}", "prompt_version": "v1", "prompt_tokens": 80, "completion_tokens": 9,
         "latency_ms": 120.0, "cache_hit": False, "status": "ok", "attempts": 1} for i in range(12)])
    commit_shard(store, layout.annotations_prefix(run_id), 0)


def _export_mixture(store: ObjectStore, version: str) -> int:
    """The lineage part export_mixture writes: every QC-kept item so far and general documents, packed back to back
    (EOS included) into SEQ_LEN-token sequences of one shard. Returns the packed sequences."""
    kept = sorted({r["item_id"] for r in lake_rows(store, layout.qc_table_prefix("kept"))})
    samples = [("boostqa", item_id) for item_id in kept] + [("general", f"doc-{version}-{i}") for i in range(10)]
    lineage, position = [], 0
    for row, (source, item_id) in enumerate(samples):
        tokens = 3 + row % 11
        lineage.append({"mixture_version": version, "sample_id": f"{source}:{item_id}", "source": source,
                        "item_id": item_id, "parquet_shard": "data/train-00000.parquet", "parquet_row": row,
                        "packed_shard": 0, "packed_sequence": position // SEQ_LEN, "token_offset": position % SEQ_LEN,
                        "tokens": tokens})
        position += tokens
    store.put_bytes(f"{layout.MIXTURES}/lineage/run_id={version}/{layout.part_name(0)}",
                    parquet_bytes(pa.Table.from_pylist(lineage, schema=LINEAGE_SCHEMA)))
    store.put_bytes(layout.mixture_prefix(version) + "manifest.json", b"{}")  # last: the version is committed
    return -(-position // SEQ_LEN)


def _publish_samples(store: ObjectStore, run_id: str, version: str, sequences: int, epochs: float) -> None:
    """The samples record publish_training_samples writes: batches of 4 sequences, in order, over 1.x epochs."""
    reads = [(i // sequences, i % sequences) for i in range(int(sequences * epochs))]
    rows = [{"run_id": run_id, "step": n // 4, "batch_position": n % 4, "epoch": epoch, "mixture_version": version,
             "manifest_sha256": f"sha-{version}", "sequence_index": sequence, "packed_shard": 0,
             "packed_sequence": sequence, "seq_len": SEQ_LEN} for n, (epoch, sequence) in enumerate(reads)]
    store.put_bytes(layout.training_samples_part(run_id),
                    parquet_bytes(pa.Table.from_pylist(rows, schema=TRAINING_SAMPLES_SCHEMA)))


def _build(stack: BoostqaSettings, warehouse: Path, target: Path, *extra: str) -> dict[str, dict[str, Any]]:
    """dbt build of the selection (tests included); returns the run results per model name."""
    run_dbt(["build", "--select", *SELECT, "--indirect-selection", "cautious", "--target-path", str(target), *extra],
            dbt_env(lake_config(stack), warehouse))
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[1]: r for r in results if r["unique_id"].startswith("model.")}


def _sql_list(values: set[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def _kept(store: ObjectStore, run_id: str) -> set[str]:
    return {r["item_id"] for r in lake_rows(store, f"{layout.qc_table_prefix('kept')}run_id={run_id}/")}


def test_an_incremental_build_equals_a_full_refresh_on_the_same_lake(stack: BoostqaSettings, tmp_path: Path) -> None:
    store = ObjectStore(lake_config(stack))
    reset_lake_prefixes(store, LAKE_PREFIXES)
    ensure_schema_parts(store)
    items_a, items_c = _items(RUN_A, seed=7), _items(RUN_C, seed=9)
    items_b = _items(RUN_B, seed=8, prefix="b-", unprefixed=frozenset(SHARED))
    half = len(items_b) // 2
    assert SHARED <= {r["item_id"] for r in items_b[half:]}  # in B's late shard

    # day 1: run A complete and QC'd; run B has finished shard 0 only; an annotate run; mixture v1 and a run on it
    _write_shard(store, RUN_A, 0, items_a)
    run_qc(store, RUN_A, force=True)
    _write_shard(store, RUN_B, 0, items_b[:half])
    _annotate_ledger(store, ANNOTATE_1)
    _publish_samples(store, TRAIN_1, "v1", _export_mixture(store, "v1"), epochs=1.5)
    warehouse_a = tmp_path / "a.duckdb"
    first = _build(stack, warehouse_a, tmp_path / "target-a1")
    assert all(first[m]["status"] == "success" for m in INCREMENTAL)
    (day1,) = query(warehouse_a, "select (select count(*) from marts.fct_synthesized_items where synthesis_run_id = "
                    f"'{RUN_B}') as b_items, (select count(*) from marts.fct_qc_decisions) as decisions, "
                    "(select count(*) from marts.fct_llm_calls) as calls, "
                    "(select count(distinct run_id) from marts.fct_checkpoint_samples) as runs")
    assert day1 == {"b_items": half, "decisions": len(items_a), "calls": 3 * (len(items_a) + half) + 12, "runs": 1}
    assert {r["synthesis_run_id"] for r in query(warehouse_a, "select synthesis_run_id from marts.fct_mixture_lineage "
                                                 f"where item_id in {_sql_list(SHARED)}")} == {RUN_A}

    # day 2: run B's late shard and its QC, run C (remakes run A's item ids), an annotate run, mixture v2 + a run
    _write_shard(store, RUN_B, 1, items_b[half:])
    run_qc(store, RUN_B, force=True)
    _write_shard(store, RUN_C, 0, items_c)
    run_qc(store, RUN_C, force=True)
    _annotate_ledger(store, ANNOTATE_2)
    _publish_samples(store, TRAIN_2, "v2", _export_mixture(store, "v2"), epochs=1.25)
    second = _build(stack, warehouse_a, tmp_path / "target-a2")
    warehouse_b = tmp_path / "b.duckdb"
    full = _build(stack, warehouse_b, tmp_path / "target-b", "--full-refresh")

    # A's second build took the incremental path: dbt compiled the is_incremental() branch, which reads the model's
    # own table, and merged with delete+insert; the full refresh compiled neither.
    for model in INCREMENTAL:
        assert second[model]["status"] == "success", model
        own_table = f"marts.{model}"
        assert own_table in second[model]["compiled_code"].replace('"', ""), model
        assert own_table not in full[model]["compiled_code"].replace('"', ""), model
        executed = next((tmp_path / "target-a2" / "run").rglob(f"{model}.sql")).read_text().lower()
        assert "delete from" in executed and "insert into" in executed, model

    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse_a}' as a (read_only)")
        con.execute(f"attach '{warehouse_b}' as b (read_only)")

        def scalar(sql: str) -> Any:
            row = con.execute(sql).fetchone()
            assert row is not None
            return row[0]

        for model in [*INCREMENTAL, "fct_llm_usage"]:
            columns = [con.execute(f"select column_name, data_type from information_schema.columns where "
                                   f"table_catalog = '{w}' and table_schema = 'marts' and table_name = '{model}' "
                                   "order by ordinal_position").fetchall() for w in ("a", "b")]
            assert columns[0] == columns[1] and columns[0], model
            rows = scalar(f"select count(*) from a.marts.{model}")
            assert rows == scalar(f"select count(*) from b.marts.{model}"), model
            assert rows > 0, model
            for left, right in (("a", "b"), ("b", "a")):
                differ = scalar(f"select count(*) from (select * from {left}.marts.{model} except all "
                                f"select * from {right}.marts.{model})")
                assert differ == 0, f"{model}: {differ} rows of {left} are not in {right}"

        # the rules behind the equality, on A
        late = {r["item_id"] for r in items_b[half:]} - SHARED  # SHARED: runs A and C made them later
        assert scalar(f"select count(*) from a.marts.fct_synthesized_items where synthesis_run_id = '{RUN_B}' "
                      f"and item_id in {_sql_list(late)}") == len(late)  # a late shard of a run loaded on day 1
        assert scalar(f"select count(*) from a.marts.fct_llm_calls where lake_part like '%/run_id={RUN_B}/%'"
                      ) == 3 * len(items_b)
        remade = {r["item_id"] for r in items_a} & {r["item_id"] for r in items_c}
        assert remade and scalar("select count(*) from a.marts.fct_synthesized_items where item_id in "
                                 f"{_sql_list(remade)} and synthesis_run_id != '{RUN_C}'") == 0  # latest run wins
        admitted_twice = (_kept(store, RUN_A) & _kept(store, RUN_C)) - SHARED
        assert admitted_twice  # run C's QC kept items whose ids run A had already admitted
        assert scalar("select count(*) from a.marts.fct_qc_passed_items where item_id in "
                      f"{_sql_list(admitted_twice)} and synthesis_run_id = '{RUN_A}'"
                      ) == len(admitted_twice)  # first run wins, no second row
        moved = _kept(store, RUN_A) & _kept(store, RUN_B)
        assert moved and moved <= SHARED  # admitted by A on day 1, and by B (which started earlier) on day 2
        for model in ("fct_qc_passed_items", "fct_mixture_lineage", "fct_checkpoint_samples"):
            assert {r[0] for r in con.execute(f"select distinct synthesis_run_id from a.marts.{model} "
                                              f"where item_id in {_sql_list(moved)}").fetchall()} == {RUN_B}, model
        assert scalar("select count(*) from a.marts.fct_qc_decisions") == len(items_a) + len(items_b) + len(items_c)
        assert scalar("select count(distinct mixture_version) from a.marts.fct_mixture_lineage") == 2
        assert scalar("select count(distinct run_id) from a.marts.fct_checkpoint_samples") == 2
        assert scalar("select sum(turns) from a.marts.fct_llm_usage") == scalar(
            "select count(*) from a.marts.fct_llm_calls")
