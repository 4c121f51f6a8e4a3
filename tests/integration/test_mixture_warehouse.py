"""The mixture in dbt on the real lake: QC'd items + staged general corpus -> token counts -> selection (the ratio in
tokens) -> export -> lineage, and a training run on it summarised by the training marts."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from boostqa.benchmarks.loader import load_items
from boostqa.export.general import load_general_sources, stage_general_corpus
from boostqa.export.mixture import export_mixture, load_selection
from boostqa.export.packing import load_target_tokenizer
from boostqa.export.token_counts import count_tokens
from boostqa.lake import layout
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import QA_SCHEMA
from boostqa.launch.metrics import publish_training_metrics
from boostqa.qc.run import run_qc
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import dbt_env, query, run_dbt
from boostqa_dev.stack.seaweedfs import lake_config
from tests.boostqa.export.test_mixture import tokenizer_dir  # noqa: F401 - fixture
from tests.boostqa.qc.planted import planted_items
from tests.conftest import lake_rows, reset_lake_prefixes
from training.status import write_metrics

pytestmark = pytest.mark.integration
RUN_RUN = "mixture_run"


def _build(stack: BoostqaSettings, tmp_path: Path, warehouse: Path, *select: str, tokenizer: str = "") -> None:
    variables = json.dumps({"mixture_version": "v1", "mixture_tokenizer": tokenizer})
    run_dbt(["build", "--select", *select, "--indirect-selection", "cautious", "--target-path",
             str(tmp_path / "target"), "--vars", variables], dbt_env(lake_config(stack), warehouse))


def test_mixture_takes_passed_items_and_general_tokens_one_to_one_and_traces_every_sample(
        stack: BoostqaSettings, tmp_path: Path, tokenizer_dir: Path) -> None:  # noqa: F811
    store = ObjectStore(lake_config(stack))
    reset_lake_prefixes(store, ["qa/", "qc/", "mixtures/"])
    planted = planted_items(load_items(splits="all"))
    rows = [{n: p.row.get(n) for n in QA_SCHEMA.names} | {"run_id": RUN_RUN} for p in planted]
    store.put_bytes(layout.qa_prefix(RUN_RUN) + layout.part_name(0),
                    parquet_bytes(pa.Table.from_pylist(rows, schema=QA_SCHEMA)))
    commit_shard(store, layout.qa_prefix(RUN_RUN), 0)
    ensure_schema_parts(store)
    kept = run_qc(store, RUN_RUN, force=True).kept
    staged = sum(stage_general_corpus(store, source) for source in load_general_sources())
    general = run_qc(store, layout.GENERAL_QC_RUN, force=True)  # the same QC, on the documents
    assert general.items == staged and 0 < general.kept <= staged
    tokenizer = load_target_tokenizer(tokenizer_dir)
    counted = count_tokens(store, "v1", tokenizer)  # what the DAG's count_tokens job does before the selection
    assert counted.boostqa == kept and counted.general > 0

    warehouse = tmp_path / "wh.duckdb"
    _build(stack, tmp_path, warehouse, "taxonomy_disciplines", "path:models/staging/qa", "path:models/staging/qc",
           "fct_qc_passed_items", "stg_general__documents", "stg_mixtures__token_counts", "stg_qc__general_kept",
           "int_general_documents_passed", "fct_training_mixture", "export_training_mixture",
           tokenizer=tokenizer.sha256)
    mix = query(warehouse, "select source, count(*) as n, sum(tokens) as tokens, sum(chars) as chars "
                "from marts.fct_training_mixture group by 1 order by 1")
    by_source = {r["source"]: r for r in mix}
    assert by_source["boostqa"]["n"] == kept
    taken = {r["item_id"] for r in query(warehouse, "select item_id from marts.fct_training_mixture "
                                                    "where source = 'general'")}
    general_kept = f"{layout.qc_table_prefix('kept')}run_id={layout.GENERAL_QC_RUN}/"
    passed = {r["item_id"] for r in lake_rows(store, general_kept)}
    assert taken and taken <= passed  # only documents the general corpus' QC kept
    (longest,) = query(warehouse, "select max(tokens) as m from marts.fct_training_mixture where source = 'general'")
    longest = longest["m"]
    # the ratio counts the target tokenizer's tokens: general documents until they hold the BoostQA tokens
    assert by_source["boostqa"]["tokens"] <= by_source["general"]["tokens"] < by_source["boostqa"]["tokens"] + longest

    selection = load_selection(store, "v1")
    assert [r["sample_order"] for r in selection] == list(range(1, len(selection) + 1))
    result = export_mixture(store, selection, "v1", tokenizer, tmp_path / "v1", seq_len=32)
    # the export counts the tokens dbt mixed by (it refuses a selection counted otherwise)
    assert result.tokens == by_source["boostqa"]["tokens"] + by_source["general"]["tokens"]
    _build(stack, tmp_path, warehouse, "stg_mixtures__lineage", "fct_mixture_lineage")
    lineage = query(warehouse, "select count(*) as n, count(synthesis_run_id) as traced from marts.fct_mixture_lineage "
                    "where mixture_version = 'v1'")
    assert lineage == [{"n": result.samples, "traced": kept}]  # every BoostQA sample leads back to its run

    # a training run on this mixture: its metrics file published to the lake and summarised by the training marts
    run_dir = tmp_path / "run"
    write_metrics(run_dir, [{"step": s, "loss": 3.0 - 0.5 * s, "lr": 1e-3, "tokens": 64, "seconds": 0.5,
                             "tokens_per_s": 128.0, "sample_indexes": [s, s + 1]} for s in range(4)])
    reset_lake_prefixes(store, ["training/"])
    ensure_schema_parts(store)
    assert publish_training_metrics(store, run_dir, "it_run", "cpu_smoke", "v1") == 4
    _build(stack, tmp_path, warehouse, "path:models/staging/training", "fct_training_steps", "fct_training_runs")
    (run,) = query(warehouse, "select * from marts.fct_training_runs")
    assert (run["run_id"], run["steps"], run["loss_first"], run["loss_last"], run["tokens_trained"]) == (
        "it_run", 4, 3.0, 1.5, 256)
    assert run["mixture_tokens"] == result.tokens and run["mixture_epochs"] == pytest.approx(256 / result.tokens)
    curve = query(warehouse, "select step, tokens_seen, loss_trailing_mean from marts.fct_training_steps order by step")
    assert [c["tokens_seen"] for c in curve] == [64, 128, 192, 256]
    assert curve[-1]["loss_trailing_mean"] == pytest.approx((3.0 + 2.5 + 2.0 + 1.5) / 4)
