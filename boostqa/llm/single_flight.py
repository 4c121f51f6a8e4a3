"""One billed call per request across workers: the first asker claims the key, the others wait for its result."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import Enum
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from tenacity import AsyncRetrying, retry_if_result, wait_exponential_jitter

from boostqa.llm.cache_backend import CacheBackend
from boostqa.llm.types import TransportResult

log = logging.getLogger(__name__)
T = TypeVar("T")


class ClaimConfig(BaseModel):
    """Timing of the claims ``SingleFlight`` takes on calls in flight."""

    model_config = ConfigDict(frozen=True)

    lease_s: float = Field(default=60.0, gt=0, description="how long a claim holds unless renewed (every lease_s/3): "
                           "the longest a crashed owner keeps its waiters waiting")
    poll_s: float = Field(default=0.05, gt=0, description="a waiter's first pause between looks; doubles each time")
    max_poll_s: float = Field(default=2.0, gt=0, description="a waiter's longest pause between looks")


class _Wait(Enum):
    WAIT = "wait"


Look = TransportResult | None | Literal[_Wait.WAIT]


class SingleFlight:
    """The claim protocol over a ``CacheBackend``: whoever claims a key first calls the model, the others wait.

    1. A stored result is returned at once (a replay; ``prefetch`` looks up a whole batch in one query).
    2. Otherwise the asker claims the key. The owner calls, renews its claim every ``lease_s / 3`` while the call
       runs, then stores the result, which drops the claim; a failed or cancelled call releases the claim at once.
    3. Everyone else waits, looking again after a bounded exponential backoff with jitter (``poll_s`` doubling up to
       ``max_poll_s``): a stored result is a replay; a released or expired claim is claimed, and the waiter calls.

    A crashed owner stops renewing: its claim expires within ``lease_s`` and the next look takes it over, with a
    warning naming the owner. Waiters never time out on a live owner: its call is bounded by the client's own
    timeouts and attempts.
    """

    def __init__(self, cache: CacheBackend, config: ClaimConfig | None = None) -> None:
        self.cache = cache
        self.config = config or ClaimConfig()
        self._worker = f"{socket.gethostname()}:{os.getpid()}"
        # The cache's blocking calls run here, off the event loop, one at a time in the order they were asked (the
        # backends serialise them on one connection anyway; see _blocking).
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-cache")
        self._prefetched: dict[str, TransportResult] = {}

    async def prefetch(self, keys: Sequence[str]) -> None:
        """Look ``keys`` up at once (a batch's first turns), so stored ones replay without a query each.

        A stored result never changes (first write wins), so holding it until its request asks is safe; each is
        handed out once, and the next prefetch drops whatever the last batch did not ask for.
        """
        self._prefetched = await self._blocking(self.cache.get_many, keys)

    async def once(self, key: str, call: Callable[[], Awaitable[TransportResult]]) -> tuple[TransportResult, bool]:
        """The key's result: stored, produced by the worker that holds the key's claim, or by ``call`` under ours.

        Returns:
            The result, and True when it was not produced by this ``call`` (a replay: nothing billed here).

        Raises:
            Whatever ``call`` raises, after releasing the claim.
        """
        cached = self._prefetched.pop(key, None)
        if cached is None:
            cached = await self._blocking(self.cache.get, key)
        if cached is not None:
            return cached, True
        owner = f"{self._worker}/{secrets.token_hex(4)}"  # one token per call: a process's requests are distinct
        try:
            found = await self._claim_or_wait(key, owner)
            if found is not None:
                return found, True
            result = await self._call_renewing(key, owner, call)
        except BaseException:
            # Whatever stopped this asker (its call failed, or its task was cancelled, even in the middle of a look)
            # frees the claim it may hold, so that waiters go on at once instead of sitting out the lease.
            await self._blocking(self.cache.release, key, owner)
            raise
        await self._blocking(self.cache.put, key, result)
        return result, False

    async def _blocking(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)`` on the cache's thread, run to the end even if the awaiting task is cancelled.

        Cancelling a task (``asyncio.run`` cancels every task left when a batch fails) must not drop a release or a
        put that is queued: the claim would then block the key's waiters for a whole lease. The thread runs the
        calls in the order they were asked, so a release queued after a look also undoes a claim that look took.
        """
        return await asyncio.shield(asyncio.wrap_future(self._thread.submit(function, *args)))

    async def _call_renewing(self, key: str, owner: str,
                             call: Callable[[], Awaitable[TransportResult]]) -> TransportResult:
        renewing = asyncio.create_task(self._renew(key, owner))
        try:
            return await call()
        finally:
            renewing.cancel()

    async def _claim_or_wait(self, key: str, owner: str) -> TransportResult | None:
        """The stored result, or None once ``owner`` holds the key's claim."""
        look = _Look(self.cache, key, owner, self.config.lease_s)
        # No stop: a live owner renews its claim and its call has its own bounds; a dead one's claim expires.
        retrying = AsyncRetrying(retry=retry_if_result(lambda outcome: outcome is _Wait.WAIT), reraise=True,
                                 wait=wait_exponential_jitter(multiplier=self.config.poll_s, max=self.config.max_poll_s,
                                                              jitter=self.config.poll_s))
        outcome: Look = await retrying(self._blocking, look)
        assert outcome is not _Wait.WAIT  # tenacity returns only an outcome its retry predicate accepts
        return outcome

    async def _renew(self, key: str, owner: str) -> None:
        """Keep ``owner``'s claim alive while its call runs (cancelled when the call ends)."""
        while True:
            await asyncio.sleep(self.config.lease_s / 3)
            try:
                held = await self._blocking(self.cache.renew, key, owner, self.config.lease_s)
            except Exception as exc:  # the database is away: the claim may lapse, the call itself goes on
                log.warning("llm cache: could not renew the claim on %s… (%s)", key[:12], exc)
                continue
            if not held:
                log.warning("llm cache: lost the claim on %s… to another worker (this one stalled for over %.0f s); "
                            "both call the model, the first result stored wins", key[:12], self.config.lease_s)
                return


class _Look:
    """One asker's look at a key (in a worker thread): the stored result, our new claim (None), or WAIT."""

    def __init__(self, cache: CacheBackend, key: str, owner: str, lease_s: float) -> None:
        self.cache = cache
        self.key = key
        self.owner = owner
        self.lease_s = lease_s
        self.seen: str | None = None  # the holder this asker last reported waiting on

    def __call__(self) -> Look:
        claim = self.cache.claim(self.key, self.owner, self.lease_s)
        result = self.cache.get(self.key)  # read after the claim: a result stored meanwhile must not be re-billed
        if claim is not None and claim.owner == self.owner:
            if result is not None:
                self.cache.release(self.key, self.owner)
                return result
            if claim.taken_over_from is not None:
                log.warning("llm cache: took over the expired claim of %s on %s… (its owner stopped renewing it: "
                            "crashed, or stalled for over %.0f s); calling the model again",
                            claim.taken_over_from, self.key[:12], self.lease_s)
            return None
        if result is not None:
            return result
        if claim is not None and claim.owner != self.seen:
            self.seen = claim.owner
            log.info("llm cache: %s… is being called by %s (claim until %s); waiting for its result",
                     self.key[:12], claim.owner, claim.expires_at.isoformat(timespec="seconds"))
        return _Wait.WAIT
