"""Smoke test of P3's --quick mode: SeaweedFS, 20,000 planted rows, one dbt build and its hand-written twin, equal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.test_quick_runs import PIPELINE_PYTHON, quick


@pytest.mark.integration  # starts SeaweedFS and runs dbt twice (a full and an incremental build): about a minute
def test_dbt_marts_quick(tmp_path: Path) -> None:
    record = quick(PIPELINE_PYTHON, "dbt_marts.py", tmp_path)
    assert record.bench == "dbt_marts" and record.skipped is None
    assert record.params["rows"] == 20_000 and record.params["counts"]["items"] == 25_000  # 4 runs + the fifth
    assert record.params["counts"]["data_tests"] > 0 and record.params["differences"] == []
    equal = next(c for c in record.checks if c.measure.startswith("mart aggregates differing"))
    assert equal.value == 0 and equal.passed
    assert all(c.goal is None for c in record.checks if c is not equal)  # quick: no time goals
    for key in ("dbt_seconds", "hand_seconds", "ratio", "dbt_model_seconds", "dbt_test_seconds", "hand_model_seconds",
                "hand_test_seconds", "incremental_seconds"):
        assert record.samples[key] and all(v > 0 for v in record.samples[key]), key
