"""Run status files: a finished status of an earlier attempt is retired before a resumed run is submitted."""

from __future__ import annotations

import json
from pathlib import Path

from boostqa.launch.spec import read_status_file, retire_finished_status


def test_a_finished_status_is_moved_aside_and_a_running_one_kept(tmp_path: Path) -> None:
    assert not retire_finished_status(tmp_path)  # nothing there yet
    (tmp_path / "status.json").write_text(json.dumps({"state": "running", "step": 3}))
    assert not retire_finished_status(tmp_path) and read_status_file(tmp_path).state == "running"  # type: ignore[union-attr]
    (tmp_path / "status.json").write_text(json.dumps({"state": "succeeded", "step": 4}))
    assert retire_finished_status(tmp_path)
    assert read_status_file(tmp_path) is None
    assert json.loads((tmp_path / "status.previous.json").read_text())["state"] == "succeeded"
