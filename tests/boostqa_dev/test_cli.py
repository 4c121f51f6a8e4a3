from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from boostqa.settings import get_settings
from boostqa_dev.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOSTQA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BOOSTQA_PORTS__S3", "9")  # nothing listens on the discard port
    get_settings.cache_clear()


def test_status_of_a_stopped_stack_fails_and_says_how_to_start_it() -> None:
    result = runner.invoke(app, ["stack", "status"])
    assert result.exit_code == 1
    assert "not running (start it: `boostqa stack up`)" in result.output


def test_down_with_nothing_running_is_a_no_op() -> None:
    result = runner.invoke(app, ["stack", "down"])
    assert result.exit_code == 0
    assert result.output.count("was not running") == 5  # 2 UIs, vLLM, Ray, SeaweedFS


def test_ingest_without_a_store_fails_with_the_fix() -> None:
    result = runner.invoke(app, ["ingest", "--date", "2026-11-25"])
    assert result.exit_code == 1
    assert "cannot reach bucket 'boostqa'" in result.output
    assert "boostqa stack status" in result.output
