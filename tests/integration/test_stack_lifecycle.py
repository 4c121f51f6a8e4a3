"""`stack up` is idempotent, `down` leaves no process of ours, a taken port gives a clear error."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from boostqa.errors import StackError
from boostqa_dev.stack import manager, ray_cluster, seaweedfs
from boostqa_dev.stack.process import read_pid
from tests.conftest import isolated_settings

pytestmark = pytest.mark.integration


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_up_is_idempotent_and_down_leaves_nothing(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    manager.up(settings, with_llm=False)
    pid = read_pid(seaweedfs.service(settings))
    ray_pid = read_pid(ray_cluster.service(settings))
    assert pid is not None and ray_pid is not None
    assert ray_cluster.health(settings)[0]
    manager.up(settings, with_llm=False)
    assert read_pid(seaweedfs.service(settings)) == pid and read_pid(ray_cluster.service(settings)) == ray_pid
    results = {p.name: p.detail for p in manager.down(settings)}
    assert results["seaweedfs"] == "stopped" and results["ray"] == "stopped"
    assert not _group_alive(pid) and not _group_alive(ray_pid)
    assert not seaweedfs.health(settings)[0] and not ray_cluster.health(settings)[0]
    # Ray's raylet, GCS, dashboard and workers all went with the head: none names this stack's temp folder.
    assert _processes_mentioning(str(ray_cluster.temp_dir(settings))) == []


def test_a_taken_s3_port_is_reported_with_the_fix(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", settings.ports.s3))
        squatter.listen()
        with pytest.raises(StackError, match="BOOSTQA_PORTS__S3"):
            manager.up(settings, with_llm=False)
    assert read_pid(seaweedfs.service(settings)) is None
