"""HTTP(S) and S3-prefix sources against real servers: a local HTTP server and the embedded SeaweedFS."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from boostqa.errors import SourceError
from boostqa.ingest.config import get_source
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import ingest_source
from boostqa.lake.store import ObjectStore
from boostqa.settings import RESOURCES, BoostqaSettings
from boostqa_dev.stack.seaweedfs import lake_config

pytestmark = pytest.mark.integration
SEEDS = RESOURCES / "seeds"


@pytest.fixture
def http_root() -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SEEDS))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_http_source_matches_the_local_file(http_root: str, stack: BoostqaSettings) -> None:
    local = get_source(RESOURCES / "seed_sources.yaml", "cn_exam_zh")
    remote = local.model_copy(update={"name": "cn_exam_zh_http", "kind": "http",
                                      "location": f"{http_root}/cn_exam_zh.csv"})
    result = ingest_source(remote, date(2026, 11, 21), ObjectStore(lake_config(stack)))
    assert (result.rows_valid, result.rows_quarantined) == (100, 0)
    missing = remote.model_copy(update={"location": f"{http_root}/missing.csv"})
    with pytest.raises(SourceError, match="cannot download"):
        fetch_source(missing)


def test_s3_prefix_source_reads_every_object_of_its_format(stack: BoostqaSettings, tmp_path: Path) -> None:
    store = ObjectStore(lake_config(stack))
    data = (SEEDS / "stem_exam_en.jsonl").read_bytes().splitlines(keepends=True)
    store.put_bytes("incoming/exam/part-a.jsonl", b"".join(data[:70]))
    store.put_bytes("incoming/exam/part-b.jsonl", b"".join(data[70:]))
    store.put_bytes("incoming/exam/README.txt", b"not a seed file")
    local = get_source(RESOURCES / "seed_sources.yaml", "stem_exam_en")
    remote = local.model_copy(update={"name": "stem_exam_en_s3", "kind": "s3",
                                      "location": f"s3://{stack.lake.bucket}/incoming/exam/"})
    result = ingest_source(remote, date(2026, 11, 21), store)
    assert (result.rows_read, result.rows_valid) == (120, 120)
