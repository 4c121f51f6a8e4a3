"""``LlmClient``: cached, throttled, retried structured-output calls with a bounded re-ask and a ledger."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from boostqa.errors import BoostqaError
from boostqa.llm.budget import BudgetExhausted, SpendGuard, estimate_prompt_tokens
from boostqa.llm.cache_backend import CacheBackend
from boostqa.llm.failures import WaitRetryAfter, refused
from boostqa.llm.ledger import Ledger
from boostqa.llm.single_flight import ClaimConfig, SingleFlight
from boostqa.llm.throttle import AimdLimiter
from boostqa.llm.transport import (
    ItemRejected,
    RateLimited,
    RunRefused,
    TransientError,
    Transport,
    Truncated,
    parse_json_object,
    split_reasoning,
)
from boostqa.llm.types import LedgerRow, LlmEndpoint, LlmOutcome, LlmRequest, TransportResult, cache_key

log = logging.getLogger(__name__)
REASK = ("Your previous reply was not valid: {error}. Reply again with only a JSON object that matches the "
         "required schema.")


class LlmUnavailable(BoostqaError):
    """The server kept failing (5xx, timeouts, 429) past the attempt budget; the task should retry later."""


class LlmClient:
    """One role's client. The task never builds it: hooks (Airflow) or the CLI hand it over.

    ``guard`` (optional, may be set later and shared by the roles of a run): every call that is not a cache
    replay reserves its upper bound there first and is charged what it used; a refused call raises
    ``BudgetExhausted``. Cache replays are free and always allowed.

    ``cache`` is any ``CacheBackend`` (SQLite file or PostgreSQL); clients that share it make one billed call per
    request between them, whichever process or host they run in (``SingleFlight``, timed by ``claims``): a request
    another client is calling waits for that result and counts as a cache hit.
    """

    def __init__(self, endpoint: LlmEndpoint, transport: Transport, cache: CacheBackend, run_id: str,
                 ledger: Ledger | None = None, backoff_s: float = 0.5, guard: SpendGuard | None = None,
                 claims: ClaimConfig | None = None) -> None:
        self.endpoint = endpoint
        self.transport = transport
        self.cache = cache
        self.flight = SingleFlight(cache, claims)
        self.run_id = run_id
        self.ledger = ledger or Ledger()
        self.guard = guard
        self.limiter = AimdLimiter(endpoint.max_concurrency)
        self.backoff_s = backoff_s

    async def generate(self, request: LlmRequest, schema: type[BaseModel]) -> LlmOutcome:
        """Call (or replay) until the output validates against ``schema``, re-asking at most ``max_reasks`` times.

        A request the server refuses for good (HTTP 400, 413, 422) or whose reply is truncated at ``max_tokens`` ends
        as a ``rejected`` or ``truncated`` outcome (quarantined by the stage; nothing cached), never as an error.

        Raises:
            LlmUnavailable: the server could not be reached within the attempt budget.
            LlmRefused: the server refused the run (401, 403, 404): fail the task, do not retry.
            BudgetExhausted: the guard refused a call this request needed (turns already made are cached).
        """
        return await self._generate(request, schema, None)

    async def _generate(self, request: LlmRequest, schema: type[BaseModel], first_key: str | None) -> LlmOutcome:
        messages = list(request.messages)
        error = ""
        result: TransportResult | None = None
        hit = False
        reasoning: str | None = None
        for turn in range(1, self.endpoint.max_reasks + 2):
            try:
                result, hit = await self._call(request, messages, first_key if turn == 1 else None)
            except ItemRejected as exc:
                return self._refused_item(request, exc, turn)
            think, answer = split_reasoning(result.text)
            reasoning = result.reasoning or think
            try:
                parsed = schema.model_validate(parse_json_object(answer)).model_dump(mode="json")
            except (ValueError, ValidationError) as exc:
                error = _short(exc)
                messages = [*messages, {"role": "assistant", "content": answer},
                            {"role": "user", "content": REASK.format(error=error)}]
                continue
            return LlmOutcome(item_id=request.item_id, status="ok", parsed=parsed, raw_text=result.text,
                              reasoning=reasoning, request_id=result.request_id, model=result.model, cache_hit=hit,
                              turns=turn)
        assert result is not None
        return LlmOutcome(item_id=request.item_id, status="invalid", raw_text=result.text, reasoning=reasoning,
                          reason=f"invalid_output: {error}", request_id=result.request_id, model=result.model,
                          cache_hit=hit, turns=self.endpoint.max_reasks + 1)

    def _refused_item(self, request: LlmRequest, exc: ItemRejected, turn: int) -> LlmOutcome:
        """The outcome of a request the server refused for good, or whose reply was truncated."""
        if isinstance(exc, Truncated):
            result = exc.result
            log.warning("%s: item %s truncated at max_tokens=%d (quarantined, not cached)", self.endpoint.role,
                        request.item_id, request.sampling.max_tokens)
            return LlmOutcome(item_id=request.item_id, status="truncated", raw_text=result.text,
                              reasoning=result.reasoning, reason=str(exc), request_id=result.request_id,
                              model=result.model, cache_hit=False, turns=turn)
        log.warning("%s: item %s refused by the server (quarantined): %s", self.endpoint.role, request.item_id, exc)
        return LlmOutcome(item_id=request.item_id, status="rejected", raw_text=exc.body, reason=f"llm_rejected: {exc}",
                          request_id="", model=self.endpoint.model, cache_hit=False, turns=turn)

    async def aclose(self) -> None:
        """Release the transport's connections; call at the end of each event loop (``run_batch`` does)."""
        await self.transport.aclose()

    async def run_batch(self, requests: list[LlmRequest], schema: type[BaseModel] | Sequence[type[BaseModel]],
                        on_done: Callable[[], None] | None = None) -> list[LlmOutcome]:
        """Generate for all ``requests`` (order kept, bounded fan-out), then close the connections.

        ``schema`` is one model for all requests or one per request; ``on_done`` is called as each request
        finishes (progress output).

        Raises:
            BudgetExhausted: the guard cut off at least one request (after every other request has finished).
        """
        outcomes = await self.run_batch_within_budget(requests, schema, on_done)
        done = [o for o in outcomes if o is not None]
        if len(done) < len(outcomes):
            raise BudgetExhausted(self.guard.exhausted if self.guard and self.guard.exhausted else
                                  f"{len(outcomes) - len(done)} requests cut off by the spend guard")
        return done

    async def run_batch_within_budget(self, requests: list[LlmRequest],
                                      schema: type[BaseModel] | Sequence[type[BaseModel]],
                                      on_done: Callable[[], None] | None = None) -> list[LlmOutcome | None]:
        """Like ``run_batch``, but a request the spend guard cut off gives None instead of failing the batch.

        Once the guard is exhausted, requests that still need a call end as None at once; those fully in the
        cache still complete (replays are free).
        """
        schemas = [schema] * len(requests) if isinstance(schema, type) else list(schema)
        if len(schemas) != len(requests):
            raise ValueError(f"{len(schemas)} schemas for {len(requests)} requests")

        async def one(request: LlmRequest, model: type[BaseModel], key: str) -> LlmOutcome | None:
            try:
                outcome = await self._generate(request, model, key)
            except BudgetExhausted:
                return None
            if on_done is not None:
                on_done()
            return outcome

        try:
            keys = [self._key(r, list(r.messages)) for r in requests]
            # One lookup for the whole batch: a rerun of finished work replays without a cache query per request.
            await self.flight.prefetch(keys)
            return await gather_bounded([one(r, m, k) for r, m, k in zip(requests, schemas, keys, strict=True)],
                                        limit=4 * self.endpoint.max_concurrency)
        finally:
            await self.aclose()

    def _key(self, request: LlmRequest, messages: list[dict[str, str]]) -> str:
        return cache_key(self.endpoint.model, messages, request.json_schema, request.sampling, request.prompt_version)

    async def _call(self, request: LlmRequest, messages: list[dict[str, str]],
                    key: str | None = None) -> tuple[TransportResult, bool]:
        key = key or self._key(request, messages)
        result, replayed = await self.flight.once(key, lambda: self._billed_call(request, messages))
        if replayed:  # stored earlier, or called meanwhile by the client that held the claim: nothing billed here
            self._record(request, result, 0.0, cache_hit=True, attempts=0)
        return result, replayed

    async def _billed_call(self, request: LlmRequest, messages: list[dict[str, str]]) -> TransportResult:
        """The call itself, under this client's claim on its key: spend guard, retries, ledger row.

        A truncated reply is charged and recorded, then raised as ``Truncated``: the claim is released and nothing is
        stored, so a later run with a larger ``max_tokens`` calls again instead of replaying it.
        """
        hold = (self.guard.reserve(self.endpoint.model, estimate_prompt_tokens(messages), request.sampling.max_tokens)
                if self.guard is not None else None)
        started = time.perf_counter()
        attempts = 0
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type((TransientError, RateLimited)),
                stop=stop_after_attempt(self.endpoint.max_attempts),
                wait=WaitRetryAfter(self.backoff_s, self.endpoint.timeout_s),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    result = await self._one_call(request, messages)
        except (TransientError, RateLimited) as exc:
            if hold is not None and self.guard is not None:
                self.guard.release(hold)
            raise LlmUnavailable(
                f"{self.endpoint.role} server {self.endpoint.base_url} failed {attempts} times: {exc}. "
                "Check it with `boostqa stack status` (embedded) or the cluster's health endpoint."
            ) from exc
        except RunRefused as exc:
            if hold is not None and self.guard is not None:
                self.guard.release(hold)
            raise refused(self.endpoint, exc) from exc
        except BaseException:
            if hold is not None and self.guard is not None:
                self.guard.release(hold)
            raise
        if hold is not None and self.guard is not None:
            self.guard.settle(hold, result.model, self.endpoint.model, result.prompt_tokens, result.completion_tokens)
        truncated = result.finish_reason == "length"
        self._record(request, result, (time.perf_counter() - started) * 1000, cache_hit=False, attempts=attempts,
                     status="truncated" if truncated else "ok")
        if truncated:
            raise Truncated(result, request.sampling.max_tokens)
        return result

    async def _one_call(self, request: LlmRequest, messages: list[dict[str, str]]) -> TransportResult:
        async with self.limiter:
            try:
                result = await self.transport.chat(self.endpoint, messages, request.schema_name,
                                                   request.json_schema, request.sampling)
            except RateLimited:
                self.limiter.on_rate_limit()
                raise
        self.limiter.on_success()
        return result

    def _record(self, request: LlmRequest, result: TransportResult, latency_ms: float, cache_hit: bool,
                attempts: int, status: str = "ok") -> None:
        self.ledger.add(LedgerRow(
            run_id=self.run_id, role=self.endpoint.role, model=result.model, item_id=request.item_id,
            request_id=result.request_id, prompt_version=request.prompt_version,
            prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens,
            latency_ms=latency_ms, cache_hit=cache_hit, status=status, attempts=attempts,
        ))


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'output'}: {first['msg']}"
    return str(exc)[:200]


async def gather_bounded(coroutines: list[Any], limit: int) -> list[Any]:
    """Await coroutines with at most ``limit`` pending at once, keeping their order."""
    semaphore = asyncio.Semaphore(limit)

    async def bounded(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return list(await asyncio.gather(*(bounded(c) for c in coroutines)))
