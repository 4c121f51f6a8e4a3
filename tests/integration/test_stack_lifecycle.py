"""`stack up` is idempotent, `down` leaves no process of ours, a taken port gives a clear error."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from boostqa.errors import StackError
from boostqa_dev.stack import manager, seaweedfs
from boostqa_dev.stack.process import read_pid
from tests.conftest import isolated_settings

pytestmark = pytest.mark.integration


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_is_idempotent_and_down_leaves_nothing(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    manager.up(settings, with_llm=False)
    pid = read_pid(seaweedfs.service(settings))
    assert pid is not None
    manager.up(settings, with_llm=False)
    assert read_pid(seaweedfs.service(settings)) == pid
    results = {p.name: p.detail for p in manager.down(settings)}
    assert results["seaweedfs"] == "stopped"
    assert not _group_alive(pid)
    assert not seaweedfs.health(settings)[0]


def test_a_taken_s3_port_is_reported_with_the_fix(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.ports.s3))
        squatter.listen()
        with pytest.raises(StackError, match="BOOSTQA_PORTS__S3"):
            manager.up(settings, with_llm=False)
    assert read_pid(seaweedfs.service(settings)) is None
