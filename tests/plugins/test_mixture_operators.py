"""The mixture's Ray operators: token counting and export are described as jobs with the lake's location and the
typed export params; a complete version is returned as it is, without a job."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import patch

import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa.export.config import ExportRunConfig
from boostqa.lake.store import LakeConfig
from boostqa_airflow.operators.mixture import CountTokensOperator, ExportMixtureOperator
from tests.conftest import MemoryStore

PARAMS = {"seq_len": "64", "tokenizer_dir": "/models/target", "general_ratio": "2.0", "bucket_cap": "10",
          "rows_per_shard": "1000", "sequences_per_shard": "16", "distributed_min_samples": "0"}


@pytest.fixture
def lake() -> Iterator[MemoryStore]:
    store = MemoryStore("lake")
    with patch("boostqa_airflow.operators.mixture.LakeHook") as hook:
        hook.return_value.get_conn.return_value = store
        hook.return_value.get_config.return_value = LakeConfig(
            endpoint_url="http://s3:8333", access_key="k", secret_key="s", bucket="lake")  # type: ignore[arg-type]
        yield store


@pytest.mark.parametrize(("operator", "stage"), [(CountTokensOperator, "count_tokens"),
                                                 (ExportMixtureOperator, "export")])
@pytest.mark.usefixtures("lake")
def test_the_operator_describes_its_job_with_the_lake_location_and_typed_params(
        operator: type[CountTokensOperator | ExportMixtureOperator], stage: str) -> None:
    spec = operator(task_id="t", run_id="mixture_20261125T000000Z_00000001", stage_params=PARAMS).job_spec()
    assert (spec.stage, spec.run_id, spec.lake.bucket, spec.lake.endpoint_url) == (
        stage, "mixture_20261125T000000Z_00000001", "lake", "http://s3:8333")
    config = ExportRunConfig.model_validate(spec.params)
    assert config == ExportRunConfig.from_params(PARAMS) and config.sequences_per_shard == 16


def test_a_complete_version_is_not_exported_again(lake: MemoryStore) -> None:
    lake.put_bytes("mixtures/v1/manifest.json", b"{}")
    with patch("boostqa_airflow.operators.ray_job.RayHook") as hook:
        result = ExportMixtureOperator(task_id="t", run_id="v1", stage_params=PARAMS).execute(context={})
    hook.assert_not_called()
    assert result is not None and result["reused"] is True and result["mixture_version"] == "v1"


@pytest.mark.usefixtures("lake")
def test_bad_params_fail_before_anything_is_submitted() -> None:
    with patch("boostqa_airflow.operators.ray_job.RayHook") as hook, pytest.raises(AirflowFailException,
                                                                                   match="seq_len"):
        ExportMixtureOperator(task_id="t", run_id="v1", stage_params=PARAMS | {"seq_len": "4"}).execute(context={})
    hook.assert_not_called()
