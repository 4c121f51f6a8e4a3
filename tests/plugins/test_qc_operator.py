"""The QC operator: params become a validated QcConfig; it runs QC of the run through the lake hook."""

from __future__ import annotations

from unittest.mock import patch

import pyarrow as pa
import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import QA_SCHEMA
from boostqa_airflow.operators.qc import QualityControlOperator, qc_config
from tests.boostqa.qc.planted import planted_items
from tests.conftest import MemoryStore


def test_templated_params_become_a_config() -> None:
    config = qc_config({"ngram": "11", "threshold": "0.7", "shingle_size": "4", "num_perm": "64", "bands": "16",
                        "benchmark_source": "local"}).qc_config()
    assert (config.decontamination.ngram, config.minhash.threshold, config.minhash.rows) == (11, 0.7, 4)


@pytest.mark.parametrize("bad", [{"bands": "30"}, {"threshold": "1.5"}, {"ngram": "x"}, {"benchmark_source": "web"}])
def test_bad_params_fail_without_retry(bad: dict[str, str]) -> None:
    params = {"ngram": "13", "threshold": "0.8", "shingle_size": "5", "num_perm": "128", "bands": "32",
              "benchmark_source": "local"} | bad
    with pytest.raises(AirflowFailException, match="bad QC parameters"):
        qc_config(params)


def test_operator_runs_qc_of_the_run_and_returns_counts(memory_store: MemoryStore) -> None:
    rows = [{n: p.row.get(n) for n in QA_SCHEMA.names} | {"run_id": "synthesize_20261125"}
            for p in planted_items([])[-3:]]
    memory_store.put_bytes(layout.qa_prefix("synthesize_20261125") + layout.part_name(0),
                           parquet_bytes(pa.Table.from_pylist(rows, schema=QA_SCHEMA)))
    operator = QualityControlOperator(task_id="qc", run_id="synthesize_20261125",
                                      stage_params={"force": "False"})
    with patch("boostqa_airflow.operators.qc.LakeHook") as hook:
        hook.return_value.get_conn.return_value = memory_store
        result = operator.execute(context={})
    assert result["items"] == 3 and result["kept"] == 0 and sum(result["reasons"].values()) == 3
    assert memory_store.get_bytes_or_none(layout.qc_marker("synthesize_20261125")) is not None


def test_an_incompatible_index_fails_the_task_without_retry(memory_store: MemoryStore) -> None:
    rows = [{n: p.row.get(n) for n in QA_SCHEMA.names} | {"run_id": run} for run in ("run_a", "run_b")
            for p in planted_items([])[:2]]
    for run in ("run_a", "run_b"):
        memory_store.put_bytes(layout.qa_prefix(run) + layout.part_name(0), parquet_bytes(pa.Table.from_pylist(
            [r for r in rows if r["run_id"] == run], schema=QA_SCHEMA)))
    with patch("boostqa_airflow.operators.qc.LakeHook") as hook:
        hook.return_value.get_conn.return_value = memory_store
        QualityControlOperator(task_id="qc", run_id="run_a").execute(context={})
        with pytest.raises(AirflowFailException, match="rebuild-index"):
            QualityControlOperator(task_id="qc", run_id="run_b", stage_params={"shingle_size": "4"}).execute(context={})
