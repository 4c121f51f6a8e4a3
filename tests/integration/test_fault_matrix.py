"""`make faults` at a small size: every row of the fault matrix, on the session's stack, ends green.

The rows are bench/faults.py's (boostqa_dev/faults/, bench/faults_kill.py); `make faults` runs them at full size
and records the table. A red row's record says which check failed. The LLM rows, on the session's vLLM server, are
in test_fault_matrix_llm.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.dbt_marts_lake import private_settings
from bench.faults_export import export_kill_row
from bench.faults_kill import ingest_kill_row, qc_kill_row, row_store
from bench.faults_outage import concurrent_ingest_row, concurrent_qc_row, outage_row
from bench.faults_ray import ray_loss_row
from bench.faults_training import training_kill_row
from boostqa.settings import BoostqaSettings
from boostqa_dev.faults.denied import denied_row
from boostqa_dev.faults.fuzz_seeds import fuzz_row
from boostqa_dev.faults.rows import FaultRow
from boostqa_dev.faults.secrets import secret_row
from boostqa_dev.faults.warehouse_lock import lock_row
from boostqa_dev.stack import seaweedfs
from boostqa_dev.stack.process import stop
from boostqa_dev.stack.seaweedfs import lake_config
from tests.boostqa.export.test_mixture import tokenizer_dir  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def _green(row: FaultRow) -> None:
    assert row.green, row.record()
    assert row.injected > 0 and row.lost == 0 and row.duplicated == 0


def test_a_killed_ingest_is_invisible_until_its_rerun_ingests_every_row(stack: BoostqaSettings,
                                                                         tmp_path: Path) -> None:
    _green(ingest_kill_row(lake_config(stack), tmp_path, rows=12_000))


def test_a_killed_qc_is_invisible_until_its_rerun_decides_every_item(stack: BoostqaSettings, tmp_path: Path) -> None:
    _green(qc_kill_row(lake_config(stack), tmp_path, items=10_000))


def test_a_killed_export_is_unpublished_until_its_rerun_exports_every_sample(
        stack: BoostqaSettings, tmp_path: Path, tokenizer_dir: Path) -> None:  # noqa: F811
    _green(export_kill_row(lake_config(stack), tokenizer_dir, tmp_path, items=5_000))


def test_a_killed_training_resumes_from_its_checkpoint_and_trains_every_step_once(tmp_path: Path) -> None:
    _green(training_kill_row(tmp_path, steps=8, every=2))


def test_a_lost_ray_cluster_is_a_retried_engine_error_and_the_retry_decides_every_item(tmp_path: Path) -> None:
    row = ray_loss_row(tmp_path, items=10_000)
    _green(row)
    assert "cannot be reached" in row.message or "has no job" in row.message


def test_a_refused_s3_identity_fails_fast_and_the_fixed_run_ingests_everything(stack: BoostqaSettings) -> None:
    row = denied_row(row_store(lake_config(stack), "denied"))
    _green(row)
    assert row.fail_fast and "403" in row.message


def test_reads_during_a_warehouse_build_never_fail_or_see_half_a_build(tmp_path: Path) -> None:
    _green(lock_row(tmp_path, seconds=6.0))


def test_a_thousand_fuzzed_seed_rows_each_end_once(stack: BoostqaSettings, tmp_path: Path) -> None:
    _green(fuzz_row(row_store(lake_config(stack), "fuzz"), tmp_path / "fuzz", rows=1000))


def test_no_secret_of_the_stack_is_in_its_logs_or_state(stack: BoostqaSettings) -> None:
    jwt = stack.state_dir / "airflow" / "jwt_secret"
    secrets = [stack.lake.secret_key, jwt.read_text().strip() if jwt.exists() else None]
    row = secret_row([stack.state_dir], [s for s in secrets if s])
    _green(row)
    assert row.jobs > 0


@pytest.fixture(scope="module")
def own_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoostqaSettings]:
    """A SeaweedFS of this module's own: the outage row stops and restarts it under a running ingest."""
    settings = private_settings(tmp_path_factory.mktemp("own_store") / "state")
    try:
        seaweedfs.up(settings)
        yield settings
    finally:
        stop(seaweedfs.service(settings))


def test_the_store_stopped_under_an_ingest_loses_and_duplicates_nothing(own_store: BoostqaSettings,
                                                                         tmp_path: Path) -> None:
    _green(outage_row(own_store, tmp_path, rows=12_000))


def test_two_ingests_of_one_partition_at_once_leave_every_row_once(own_store: BoostqaSettings, tmp_path: Path) -> None:
    _green(concurrent_ingest_row(own_store, tmp_path, rows=12_000))


def test_two_qc_runs_of_one_run_at_once_leave_one_set_of_decisions(own_store: BoostqaSettings, tmp_path: Path) -> None:
    _green(concurrent_qc_row(own_store, tmp_path, items=10_000))
