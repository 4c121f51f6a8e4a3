"""Shared test setup: an isolated AIRFLOW_HOME, an in-memory object store, the embedded stack on free ports."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

# Airflow reads AIRFLOW_HOME at import time: give every test process its own, never ~/airflow.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="boostqa-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
# Under xdist, each worker's OpenMP/MKL pools (torch in the training and eval subprocesses) get their share of the
# cores. With a full-width pool beside the vLLM server's pinned threads, OpenMP's spin-waiting threads are
# descheduled at every barrier: on 2 cores a 2-thread torch loop ran about 7x slower next to a generating vLLM
# server than alone, a 1-thread loop about 1.2x slower.
if workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0")):
    for _pool in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_pool, str(max(1, (os.cpu_count() or 1) // workers)))

from boostqa.lake.store import LakeConfig  # noqa: E402
from boostqa.settings import RESOURCES, BoostqaSettings, LlmServerSettings, PortSettings  # noqa: E402
from boostqa_dev.checkout import PROJECT_ROOT, use_checkout_defaults  # noqa: E402
from boostqa_dev.stack.ports import free_ports  # noqa: E402
from boostqa_dev.stack.seaweedfs import GRPC_OFFSET  # noqa: E402

if TYPE_CHECKING:
    from tests.postgres_server import PostgresServer

# The library's path settings (state folder, dbt project, venvs, launcher templates) from this checkout, as the
# `boostqa` command sets them; a test that needs others passes them explicitly.
use_checkout_defaults()

SEEDS_DIR = RESOURCES / "seeds"


class MemoryStore:
    """In-memory stand-in for ObjectStore in unit tests of our own write logic (same method contract)."""

    def __init__(self, bucket: str = "test-bucket") -> None:
        self.config = LakeConfig(access_key="k", secret_key="s", bucket=bucket)  # type: ignore[arg-type]
        self.objects: dict[str, bytes] = {}

    def put_bytes(self, key: str, data: bytes, content_type: str = "") -> None:
        self.objects[key] = data

    def get_bytes(self, key: str, bucket: str | None = None) -> bytes:
        return self.objects[key]

    def get_bytes_or_none(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def list_keys(self, prefix: str, bucket: str | None = None) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def delete_keys(self, keys: list[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)


@pytest.fixture
def memory_store() -> MemoryStore:
    return MemoryStore()


def isolated_settings(state_dir: Path) -> BoostqaSettings:
    """Settings for a private stack: its own state folder and free loopback ports."""
    s3, master, volume, filer, admin, metrics, airflow_api, docs, llm, *ray = free_ports(13, GRPC_OFFSET)
    ports = PortSettings(s3=s3, seaweed_master=master, seaweed_volume=volume, seaweed_filer=filer,
                         seaweed_admin=admin, seaweed_metrics=metrics, airflow_api=airflow_api, dbt_docs=docs, llm=llm,
                         ray_dashboard=ray[0], ray_gcs=ray[1], ray_client=ray[2], ray_dashboard_agent=ray[3])
    # The converted model is cached in the checkout's .state/, so test sessions convert it once.
    llm_server = LlmServerSettings(models_dir=PROJECT_ROOT / ".state" / "models", venv=PROJECT_ROOT / ".venv-vllm")
    return BoostqaSettings(state_dir=state_dir, ports=ports, llm_server=llm_server)


VLLM_FIXTURES = {"stack_with_llm", "annotated_stack"}
# The modules whose tests run on the session's vLLM server (checked at collection: a test that uses
# VLLM_FIXTURES outside them is refused). Under pytest-xdist they form one group on one worker.
VLLM_MODULES = frozenset(f"tests/integration/{name}.py" for name in (
    "test_llm_engine", "test_seed_annotate_dag", "test_scheduled_days", "test_spend_guard", "test_train_eval_dags",
    "test_fault_matrix_llm", "test_eval_server_parity", "test_difficulty_calibration"))


# The modules whose tests use the session's PostgreSQL server (`postgres_server`): under xdist, one work unit, so
# one worker starts one server for all of them.
POSTGRES_MODULES = frozenset(("tests/boostqa/llm/test_cache_backend.py", "tests/boostqa/llm/test_single_flight.py",
                              "tests/plugins/test_llm_hook.py"))


def _in_vllm_group(nodeid: str) -> bool:
    return nodeid.split("::", 1)[0] in VLLM_MODULES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a vLLM test outside VLLM_MODULES; under xdist, put the vLLM group (the longest chain) first, so one
    worker starts it at once while the other takes everything else."""
    strays = [item.nodeid for item in items
              if VLLM_FIXTURES & set(getattr(item, "fixturenames", ())) and not _in_vllm_group(item.nodeid)]
    if strays:
        raise pytest.UsageError(f"{strays}: tests on the vLLM server; add their modules to VLLM_MODULES "
                                "in tests/conftest.py (one xdist worker runs them all, on one server)")
    if hasattr(config, "workerinput"):
        items[:] = sorted(items, key=lambda item: not _in_vllm_group(item.nodeid))  # stable: collection order


@pytest.hookimpl(optionalhook=True)  # xdist's hook: unknown under `-p no:xdist` (TEST_WORKERS=0)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``make test`` runs 2 xdist workers: the vLLM modules are one work unit (one server, about 2 minutes to
    start and both cores busy while it generates, and one annotated stack per session); every other integration
    module is one unit (its module-scoped stack or browser starts once, on one worker), the PostgreSQL modules are
    one unit (one server), every other test its own.
    (xdist's ``loadgroup`` marks cannot be used: they rewrite a private node id pytest 9.2 no longer reads.)"""
    if config.getoption("dist") != "load":  # another --dist mode asked for explicitly
        return None
    from xdist.scheduler import LoadScopeScheduling

    class VllmGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if _in_vllm_group(nodeid):
                return "vllm"
            module = nodeid.split("::", 1)[0]
            if module in POSTGRES_MODULES:
                return "postgres"
            return module if module.startswith("tests/integration/") else nodeid

    return VllmGroupScheduling(config, log)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoostqaSettings]:
    """The real embedded stack (SeaweedFS, a Ray head, a migrated Airflow home) on free ports, stopped at the end."""
    from boostqa_dev.stack import manager

    settings = isolated_settings(tmp_path_factory.mktemp("state"))
    try:
        manager.up(settings, with_llm=False)  # inside the try: a part that failed to start still stops the others
        yield settings
    finally:
        manager.down(settings)


@pytest.fixture(scope="session")
def stack_with_llm(stack: BoostqaSettings) -> Iterator[BoostqaSettings]:
    """The stack plus the real vLLM CPU server (about a minute to start; shared by the LLM tests)."""
    from boostqa_dev.stack import llm_server
    from boostqa_dev.stack.process import stop

    llm_server.up(stack)
    try:
        yield stack
    finally:
        stop(llm_server.service(stack))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (tests/postgres_server.py) on a free loopback port, stopped and deleted at the end.

    Without server binaries the tests that use it fail with what to do; they never skip.
    """
    from tests.postgres_server import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None
    try:
        yield server
    finally:
        server.stop()


def lake_rows(store: object, prefix: str) -> list[dict[str, object]]:
    """Every row of the parquet parts under ``prefix`` (an ObjectStore or a MemoryStore)."""
    import io

    import pyarrow.parquet as pq

    keys = [k for k in store.list_keys(prefix) if k.endswith(".parquet")]  # type: ignore[attr-defined]
    return [row for key in keys for row in pq.read_table(io.BytesIO(store.get_bytes(key))).to_pylist()]  # type: ignore[attr-defined]


def reset_lake_prefixes(store: object, prefixes: list[str]) -> None:
    """Delete everything under ``prefixes`` of a session-shared lake, so a test's QC index and marts see only its
    own runs (the dedup index is lake-wide state: an earlier test's kept items would be duplicates of this one's)."""
    for prefix in prefixes:
        store.delete_keys(store.list_keys(prefix))  # type: ignore[attr-defined]


class WebhookReceiver:
    """A real HTTP server on loopback that records JSON POSTs (an incoming-webhook endpoint such as Slack's);
    the first ``fail_first`` requests get HTTP 503, to exercise retries."""

    def __init__(self, fail_first: int = 0) -> None:
        import http.server
        import json
        import threading

        self.payloads: list[dict[str, object]] = []
        self.attempts = 0
        self.fail_first = fail_first
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(503)
                else:
                    receiver.payloads.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


def run_ids(store: object, prefix: str) -> set[str]:
    """The run ids partitioning ``prefix`` (``<prefix>run_id=<id>/...``) in a session-shared lake."""
    from boostqa_dev.report.days import run_ids as lake_run_ids

    return lake_run_ids(store, prefix)  # type: ignore[arg-type]


def new_run_id(store: object, prefix: str, before: set[str]) -> str:
    """The one run id under ``prefix`` that was not in ``before`` (the run a test just made)."""
    (run_id,) = run_ids(store, prefix) - before
    return run_id


def word_tokenizer(folder: Path, words: list[str]) -> Path:
    """An HF tokenizer folder of a word-level vocabulary (``words[1]`` is EOS), for tests of our own token logic."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token=words[0]))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                       pre_tokenizers.Punctuation()])
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"eos_token": words[1]}))
    return folder
