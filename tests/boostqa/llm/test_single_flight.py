from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time

import pytest

from boostqa.llm.cache_backend import CacheBackend
from boostqa.llm.failures import LlmRefused
from boostqa.llm.fake import FakeTransport
from boostqa.llm.single_flight import ClaimConfig
from boostqa.llm.transport import RunRefused
from boostqa.llm.types import LlmOutcome
from tests.boostqa.llm.cache_backends import REPLY, BackendSpec, Label, ask_in_process, client, key_of, request

pytestmark = pytest.mark.timeout(120)


def test_two_processes_asking_at_once_make_one_billed_call(backend_spec: BackendSpec) -> None:
    """The issue-18 property: two workers, one request, one call; both get the same result."""
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: no connection or lock copied by fork
    barrier, results = spawn.Barrier(2), spawn.Queue()
    workers = [spawn.Process(target=ask_in_process, args=(backend_spec, barrier, results, 1.0)) for _ in range(2)]
    for worker in workers:
        worker.start()
    reports = [results.get(timeout=100) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert sum(r["calls"] for r in reports) == 1
    assert reports[0]["parsed"] == reports[1]["parsed"] == {"label": "physics"}
    assert reports[0]["request_id"] == reports[1]["request_id"]  # the waiter got the owner's very reply
    assert sorted(r["cache_hit"] for r in reports) == [False, True]
    # Both asked before either had an answer: the second really waited on the first's claim.
    assert max(r["started"] for r in reports) < min(r["ended"] for r in reports)
    assert backend_spec.open().holder(key_of(request())) is None


def test_concurrent_askers_in_one_process_share_the_call_too(cache: CacheBackend) -> None:
    transports = [FakeTransport(lambda m: REPLY, delay_s=0.5) for _ in range(3)]
    clients = [client(cache, t) for t in transports]

    async def ask_all() -> list[LlmOutcome]:
        return list(await asyncio.gather(*(c.generate(request(), Label) for c in clients)))

    outcomes = asyncio.run(ask_all())
    assert sum(len(t.calls) for t in transports) == 1
    assert len({o.request_id for o in outcomes}) == 1 and sorted(o.cache_hit for o in outcomes) == [False, True, True]


def test_an_expired_claim_of_a_crashed_owner_is_taken_over(cache: CacheBackend,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    cache.claim(key_of(request()), "crashed-host:4242/deadbeef", lease_s=1.0)  # its owner died mid-call
    transport = FakeTransport(lambda m: REPLY)
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="boostqa.llm.single_flight"):
        outcome = asyncio.run(client(cache, transport).generate(request(), Label))
    waited = time.monotonic() - started
    assert outcome.parsed == {"label": "physics"} and not outcome.cache_hit and len(transport.calls) == 1
    assert 0.8 < waited < 10  # until the lease ran out, not longer
    assert "is being called by crashed-host:4242/deadbeef" in caplog.text
    assert "took over the expired claim of crashed-host:4242/deadbeef" in caplog.text
    assert cache.holder(key_of(request())) is None and cache.get(key_of(request())) is not None


def test_a_failed_call_releases_its_claim_and_a_waiter_calls_at_once(cache: CacheBackend) -> None:
    failing = FakeTransport(lambda m: RunRefused("HTTP 401", 401), delay_s=0.5)
    working = FakeTransport(lambda m: REPLY)
    claims = ClaimConfig(lease_s=60, poll_s=0.02, max_poll_s=0.2)

    async def both() -> tuple[BaseException | LlmOutcome, LlmOutcome, float]:
        first = asyncio.create_task(client(cache, failing, claims).generate(request(), Label))
        await asyncio.sleep(0.1)  # the failing asker holds the claim by now
        started = time.monotonic()
        second = await client(cache, working, claims).generate(request(), Label)
        failed = (await asyncio.gather(first, return_exceptions=True))[0]
        return failed, second, time.monotonic() - started

    failed, second, waited = asyncio.run(both())
    assert isinstance(failed, LlmRefused) and len(failing.calls) == 1
    assert second.parsed == {"label": "physics"} and not second.cache_hit and len(working.calls) == 1
    assert 0.3 < waited < 5  # it waited for the failure, then went on: far from the 60 s lease
    assert cache.holder(key_of(request())) is None


def test_the_owner_renews_its_claim_so_a_long_call_is_never_taken_over(cache: CacheBackend) -> None:
    claims = ClaimConfig(lease_s=0.6, poll_s=0.02, max_poll_s=0.1)  # the call lasts 2.5 leases
    transports = [FakeTransport(lambda m: REPLY, delay_s=1.5) for _ in range(2)]

    async def ask_both() -> list[LlmOutcome]:
        first = asyncio.create_task(client(cache, transports[0], claims).generate(request(), Label))
        await asyncio.sleep(0.1)
        return [await client(cache, transports[1], claims).generate(request(), Label), await first]

    outcomes = asyncio.run(ask_both())
    assert [len(t.calls) for t in transports] == [1, 0]
    assert outcomes[0].request_id == outcomes[1].request_id


class CountingLookups:
    """The real backend, counting how the client looks results up."""

    def __init__(self, cache: CacheBackend) -> None:
        self.cache = cache
        self.gets = 0
        self.batches = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.cache, name)

    def get(self, key: str) -> object:
        self.gets += 1
        return self.cache.get(key)

    def get_many(self, keys: list[str]) -> object:
        self.batches += 1
        return self.cache.get_many(keys)


def test_a_batch_rerun_replays_from_one_lookup_for_the_whole_batch(cache: CacheBackend) -> None:
    requests = [request(f"i{n}") for n in range(20)]
    asyncio.run(client(cache, FakeTransport(lambda m: REPLY)).run_batch(requests, Label))
    counting, transport = CountingLookups(cache), FakeTransport(lambda m: REPLY)
    outcomes = asyncio.run(client(counting, transport).run_batch(requests, Label))  # type: ignore[arg-type]
    assert all(o.cache_hit for o in outcomes) and transport.calls == []
    assert (counting.batches, counting.gets) == (1, 0)


class SlowRelease:
    """The real backend, with releases that take a while: they queue up behind each other on the cache's thread."""

    def __init__(self, cache: CacheBackend) -> None:
        self.cache = cache

    def __getattr__(self, name: str) -> object:
        return getattr(self.cache, name)

    def release(self, key: str, owner: str) -> None:
        time.sleep(0.1)
        self.cache.release(key, owner)


def test_a_failing_batch_leaves_no_claim_behind(cache: CacheBackend) -> None:
    """When a batch fails, asyncio.run cancels what is left of it, releases still queued included: each must run
    anyway, or the next run's askers would wait out the lease on a claim nobody holds."""
    requests = [request(f"i{n}") for n in range(8)]
    transport = FakeTransport(lambda m: RunRefused("HTTP 401", 401), delay_s=0.2)  # all fail at once
    with pytest.raises(LlmRefused):
        asyncio.run(client(SlowRelease(cache), transport).run_batch(requests, Label))  # type: ignore[arg-type]
    deadline = time.monotonic() + 5  # the queued releases finish on the cache's thread; the lease is 30 s
    while any(cache.holder(key_of(r)) for r in requests) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [cache.holder(key_of(r)) for r in requests] == [None] * len(requests)
