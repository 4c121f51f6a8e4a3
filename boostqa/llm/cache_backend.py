"""The response cache's contract: results by content address, first write wins, and claims on calls in flight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from boostqa.llm.types import TransportResult


@dataclass(frozen=True)
class Claim:
    """Who is calling the model for a key, and until when the other askers wait for that worker's result.

    ``owner`` is ``<host>:<pid>/<token>``, one token per call, so an operator can find the worker and two requests of
    one process never mistake each other's claims for their own. ``taken_over_from`` is set when this claim replaced
    an expired one: the owner named there stopped renewing it (crashed, or stalled for longer than a lease).
    """

    owner: str
    expires_at: datetime
    taken_over_from: str | None = None


class CacheBackend(Protocol):
    """What ``LlmClient`` needs from a response cache; ``ResponseCache`` (SQLite) and ``PostgresResponseCache``.

    Results: ``key`` is ``boostqa.llm.types.cache_key`` (model, messages, schema, sampling, prompt version), so one
    key always describes the same call and the first stored result wins. Claims: a lease on a key that is being
    called, so that workers asking for the same key at once make one billed call (``boostqa.llm.single_flight``).
    Every method is blocking and safe to call from several threads; async callers use ``asyncio.to_thread``.
    """

    def get(self, key: str) -> TransportResult | None:
        """The stored result, or None."""
        ...

    def get_many(self, keys: Sequence[str]) -> dict[str, TransportResult]:
        """The stored results among ``keys``, by key (a few queries, not one per key)."""
        ...

    def put(self, key: str, result: TransportResult) -> None:
        """Store a result unless one is stored already (first write wins), and drop the key's claim."""
        ...

    def claim(self, key: str, owner: str, lease_s: float) -> Claim | None:
        """Claim ``key`` for ``owner`` for ``lease_s`` seconds, unless another owner's unexpired claim holds it.

        Returns:
            The key's claim after the attempt: ours when ``claim.owner == owner`` (a new claim, or an expired one
            taken over), else the holder's. None when the key had a claim that vanished meanwhile (its owner
            released it or stored the result): ask again.
        """
        ...

    def renew(self, key: str, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s claim to ``lease_s`` seconds from now; False when ``owner`` no longer holds it."""
        ...

    def release(self, key: str, owner: str) -> None:
        """Drop ``owner``'s claim (its call failed), so a waiting worker claims the key at once."""
        ...

    def holder(self, key: str) -> Claim | None:
        """The key's current claim, expired or not, or None."""
        ...

    def __len__(self) -> int:
        """Number of stored results."""
        ...

    def close(self) -> None:
        """Release the database connection."""
        ...
