"""The QC operator: params become a validated QcConfig, sent with the lake's location as a Ray job spec."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa.lake.store import LakeConfig
from boostqa.qc.config import QcRunConfig
from boostqa_airflow.operators.qc import QualityControlOperator, qc_config


def test_templated_params_become_a_config() -> None:
    config = qc_config({"ngram": "11", "threshold": "0.7", "shingle_size": "4", "num_perm": "64", "bands": "16",
                        "benchmark_source": "local"}).qc_config()
    assert (config.decontamination.ngram, config.minhash.threshold, config.minhash.rows) == (11, 0.7, 4)
    mirrored = qc_config({"benchmark_source": "mirror", "benchmark_mirror": "s3://lake/mirrors/hub"}).qc_config()
    assert str(mirrored.benchmarks()) == "mirror s3://lake/mirrors/hub"


@pytest.mark.parametrize("bad", [{"bands": "30"}, {"threshold": "1.5"}, {"ngram": "x"}, {"benchmark_source": "web"},
                                 {"benchmark_source": "mirror"}, {"benchmark_mirror": "/data/hub"}])
def test_bad_params_fail_without_retry(bad: dict[str, str]) -> None:
    params = {"ngram": "13", "threshold": "0.8", "shingle_size": "5", "num_perm": "128", "bands": "32",
              "benchmark_source": "local"} | bad
    with pytest.raises(AirflowFailException, match="bad QC parameters"):
        qc_config(params)


def test_the_operator_describes_a_qc_job_with_the_lake_location_and_typed_params() -> None:
    operator = QualityControlOperator(task_id="qc", run_id="synthesize_20261125",
                                      stage_params={"force": "True", "threshold": "0.7"})
    config = LakeConfig(endpoint_url="http://s3:8333", access_key="k", secret_key="s", bucket="lake")  # type: ignore[arg-type]
    with patch("boostqa_airflow.operators.qc.LakeHook") as hook:
        hook.return_value.get_config.return_value = config
        spec = operator.job_spec()
    assert (spec.stage, spec.run_id, spec.lake.bucket, spec.lake.endpoint_url) == (
        "qc", "synthesize_20261125", "lake", "http://s3:8333")
    assert QcRunConfig.model_validate(spec.params) == qc_config({"force": "True", "threshold": "0.7"})


def test_bad_params_fail_before_anything_is_submitted() -> None:
    operator = QualityControlOperator(task_id="qc", run_id="r", stage_params={"bands": "30"})
    with patch("boostqa_airflow.operators.ray_job.RayHook") as hook, pytest.raises(AirflowFailException):
        operator.execute(context={})
    hook.assert_not_called()
