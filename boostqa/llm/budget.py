"""Spend budgets and the guard that stops issuing LLM calls when a run's or a day's cap is reached."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from boostqa.errors import BoostqaError, ConfigError
from boostqa.lake import layout
from boostqa.lake.read import read_object
from boostqa.lake.store import ObjectStore
from boostqa.llm.prices import PriceList
from boostqa.runs import run_day

log = logging.getLogger(__name__)
CAPS = ("run_tokens", "run_usd", "day_tokens", "day_usd")
UNCAPPED = ("off", "none", "unlimited")
LEGACY_DAY = re.compile(r"_(\d{4}-\d{2}-\d{2})$")


class BudgetExhausted(BoostqaError):
    """The guard refused a new (non-cached) call: the run's or the day's cap is reached. Jobs stay pending."""


class SpendBudget(BaseModel):
    """Caps of one stage: tokens and USD, per run and per UTC day; None = no cap."""

    model_config = ConfigDict(frozen=True)

    run_tokens: int | None = Field(default=None, ge=0)
    run_usd: float | None = Field(default=None, ge=0)
    day_tokens: int | None = Field(default=None, ge=0)
    day_usd: float | None = Field(default=None, ge=0)

    @classmethod
    def for_stage(cls, stage: str, settings: Any = None) -> SpendBudget:
        """The caps ``BOOSTQA_BUDGET__<STAGE>_{RUN,DAY}_{TOKENS,USD}`` of a stage (``synthesize``, ``annotate``)."""
        if settings is None:
            from boostqa.settings import get_settings

            settings = get_settings().budget
        return cls(**{cap: getattr(settings, f"{stage}_{cap}", None) for cap in CAPS})

    def merged(self, overrides: Mapping[str, Any]) -> SpendBudget:
        """These caps with DAG params applied.

        A number sets a cap, ``None``/``""`` keeps the setting, ``off``/``none``/``unlimited`` removes it. Keys:
        ``run_tokens``, ``run_usd``, ``day_tokens``, ``day_usd``.

        Raises:
            ConfigError: a value is neither a number nor one of those words.
        """
        values = self.model_dump()
        for cap in CAPS:
            raw = overrides.get(cap)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            if isinstance(raw, str) and raw.strip().lower() in UNCAPPED:
                values[cap] = None
                continue
            try:
                number = float(raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"budget {cap}={raw!r} is not a number (or off)") from exc
            values[cap] = int(number) if cap.endswith("tokens") else number
        return SpendBudget(**values)

    @property
    def has_usd_cap(self) -> bool:
        """True when a USD cap applies (then every model called must be priced)."""
        return self.run_usd is not None or self.day_usd is not None

    def describe(self) -> str:
        """One line for messages, e.g. ``run 10,000 tokens / $2.00; day no cap``."""
        def pair(tokens: int | None, usd: float | None) -> str:
            parts = [f"{tokens:,} tokens" if tokens is not None else "", f"${usd:,.4f}" if usd is not None else ""]
            return " / ".join(p for p in parts if p) or "no cap"
        return f"run {pair(self.run_tokens, self.run_usd)}; day {pair(self.day_tokens, self.day_usd)}"


class Spend(BaseModel):
    """Billed tokens and their USD; ``unpriced_tokens`` were spent on models without a price (USD 0 here)."""

    tokens: int = 0
    usd: float = 0.0
    unpriced_tokens: int = 0

    def __add__(self, other: Spend) -> Spend:
        return Spend(tokens=self.tokens + other.tokens, usd=self.usd + other.usd,
                     unpriced_tokens=self.unpriced_tokens + other.unpriced_tokens)

    def describe(self) -> str:
        """``1,234 tokens / $0.0012``."""
        return f"{self.tokens:,} tokens / ${self.usd:,.4f}"


class CommittedSpend(BaseModel):
    """What the lake's ledgers already hold: this run's finished shards, and every run of the stage that day."""

    day: str | None = Field(description="UTC day (YYYY-MM-DD) the run started; None when its id carries none")
    run: Spend = Spend()
    day_total: Spend = Spend()
    runs_that_day: list[str] = Field(default_factory=list)


def run_started_day(run_id: str) -> str | None:
    """UTC day a run started, from its id (``<stage>_<YYYYMMDDTHHMMSS>Z_<hash>``; legacy ``<stage>_<YYYY-MM-DD>``)."""
    day = run_day(run_id)
    if day is None and (match := LEGACY_DAY.search(run_id)):
        day = match.group(1)
    return day


def _run_of(key: str) -> str | None:
    match = re.search(r"/run_id=([^/]+)/", key)
    return match.group(1) if match else None


def billed_spend(rows: list[dict[str, Any]], prices: PriceList) -> Spend:
    """Tokens and USD of ledger rows that reached a server (cache hits are free)."""
    spend = Spend()
    for row in rows:
        if row.get("cache_hit"):
            continue
        prompt, completion = int(row.get("prompt_tokens") or 0), int(row.get("completion_tokens") or 0)
        usd = prices.cost_or_none(str(row.get("model")), prompt, completion)
        spend += Spend(tokens=prompt + completion, usd=usd or 0.0,
                       unpriced_tokens=0 if usd is not None else prompt + completion)
    return spend


def committed_spend(store: ObjectStore, stage: str, run_id: str, prices: PriceList, day: str | None = None,
                    exclude_keys: Collection[str] = ()) -> CommittedSpend:
    """Billed spend already in the lake.

    Ledger parts of ``run_id`` (finished shards) and of every run of ``stage`` that started on ``day`` (default: the day
    ``run_id`` started). ``exclude_keys``: parts not to count (the part the caller is about to rewrite).
    """
    day = day or run_started_day(run_id)
    runs: set[str]
    run, day_total, runs = Spend(), Spend(), set()
    columns = ["model", "prompt_tokens", "completion_tokens", "cache_hit"]
    for key in store.list_keys(layout.ledger_stage_prefix(stage)):
        owner = _run_of(key)
        if not key.endswith(".parquet") or key in exclude_keys or owner is None or owner == layout.BOOTSTRAP_RUN:
            continue
        in_run, in_day = owner == run_id, day is not None and run_started_day(owner) == day
        if not (in_run or in_day):
            continue
        spend = billed_spend(read_object(store, key, columns).to_pylist(), prices)
        run = run + spend if in_run else run
        if in_day:
            day_total, runs = day_total + spend, runs | {owner}
    return CommittedSpend(day=day, run=run, day_total=day_total, runs_that_day=sorted(r for r in runs if r))


@dataclass(frozen=True)
class Reservation:
    """Upper bound of one call in flight, held from its start until it is settled or released."""

    tokens: int
    usd: float


def estimate_prompt_tokens(messages: list[dict[str, str]]) -> int:
    """An upper-leaning token estimate of the messages (UTF-8 bytes / 3: about 1.3x for English, ~1x for Chinese)."""
    return sum(len(m.get("content", "").encode()) for m in messages) // 3 + 4 * len(messages)


class SpendGuard:
    """Holds the caps and the spend already committed; every non-cached call reserves its upper bound first.

    A call starts only if committed + charged + reserved (calls in flight) + its own upper bound (prompt estimate +
    ``max_tokens``) stays within each cap. The first refusal is final for this guard (``exhausted``): later
    non-cached calls are refused at once, while cache replays stay free. ``share`` (0..1] limits this guard to a
    fraction of what remains of each cap (shards running in parallel processes cannot see each other's spend).
    Safe for one event loop and for threads (one lock; no await inside).
    """

    def __init__(self, budget: SpendBudget, prices: PriceList, committed: CommittedSpend | None = None,
                 label: str = "", share: float = 1.0) -> None:
        if not 0 < share <= 1:
            raise ConfigError(f"guard share must be in (0, 1], got {share}")
        self.budget = budget
        self.prices = prices
        self.committed = committed or CommittedSpend(day=None)
        self.label = label
        self.share = share
        self.spent = Spend()
        self.reserved = Spend()
        self.calls = 0
        self.exhausted: str | None = None
        self._lock = threading.Lock()

    def _usd(self, model: str, prompt: int, completion: int) -> float:
        if self.budget.has_usd_cap:
            return self.prices.cost(model, prompt, completion)  # unpriced under a USD cap: UnknownModelPrice
        return self.prices.cost_or_none(model, prompt, completion) or 0.0

    def _allowances(self) -> list[tuple[str, float, float, bool]]:
        """(name, allowance for this guard, already committed, is_tokens) of each cap that is set."""
        c, b = self.committed, self.budget
        caps = [("run tokens", b.run_tokens, c.run.tokens, True), ("run USD", b.run_usd, c.run.usd, False),
                ("day tokens", b.day_tokens, c.day_total.tokens, True),
                ("day USD", b.day_usd, c.day_total.usd, False)]
        return [(name, committed + max(cap - committed, 0) * self.share, committed, tokens)
                for name, cap, committed, tokens in caps if cap is not None]

    def reserve(self, model: str, prompt_tokens: int, max_completion_tokens: int) -> Reservation:
        """Hold the upper bound of one call, or refuse it.

        Raises:
            BudgetExhausted: a cap would be passed (or was reached before); the call must not be made.
            UnknownModelPrice: a USD cap is set and ``model`` has no price.
        """
        need = Reservation(prompt_tokens + max_completion_tokens,
                           self._usd(model, prompt_tokens, max_completion_tokens))
        with self._lock:
            if self.exhausted is None:
                for name, allowance, committed, is_tokens in self._allowances():
                    used = committed + (self.spent.tokens + self.reserved.tokens if is_tokens
                                        else self.spent.usd + self.reserved.usd)
                    asked = need.tokens if is_tokens else need.usd
                    if used + asked > allowance:
                        self.exhausted = self._message(name, used, asked, allowance, is_tokens)
                        log.warning("%s", self.exhausted)
                        break
            if self.exhausted is not None:
                raise BudgetExhausted(self.exhausted)
            self.reserved += Spend(tokens=need.tokens, usd=need.usd)
        return need

    def release(self, hold: Reservation) -> None:
        """Give back a reservation whose call failed (nothing billed)."""
        with self._lock:
            self.reserved = Spend(tokens=self.reserved.tokens - hold.tokens, usd=self.reserved.usd - hold.usd)

    def settle(self, hold: Reservation, model: str, fallback_model: str, prompt_tokens: int,
               completion_tokens: int) -> None:
        """Replace a reservation by what the call really used (priced as ``model``, else ``fallback_model``)."""
        usd = self.prices.cost_or_none(model, prompt_tokens, completion_tokens)
        if usd is None:
            usd = self.prices.cost_or_none(fallback_model, prompt_tokens, completion_tokens)
        charge = Spend(tokens=prompt_tokens + completion_tokens, usd=usd or 0.0,
                       unpriced_tokens=0 if usd is not None else prompt_tokens + completion_tokens)
        with self._lock:
            self.reserved = Spend(tokens=self.reserved.tokens - hold.tokens, usd=self.reserved.usd - hold.usd)
            self.spent += charge
            self.calls += 1

    def _message(self, name: str, used: float, asked: float, allowance: float, is_tokens: bool) -> str:
        def fmt(value: float) -> str:
            return f"{value:,.0f} tokens" if is_tokens else f"${value:,.4f}"
        share = f" (this guard's share {self.share:.2f} of what remained)" if self.share < 1 else ""
        return (f"{self.label or 'LLM'} budget reached: {name} cap {fmt(allowance)}{share}, already "
                f"{fmt(used)} spent or in flight (this process {self.spent.describe()}, {self.calls} calls; "
                f"committed before: run {self.committed.run.describe()}, day {self.committed.day} "
                f"{self.committed.day_total.describe()}); the next call needs up to {fmt(asked)}. No new calls: "
                "jobs not finished stay pending for the next run (cache replays stay free).")

    def remaining(self) -> dict[str, float | None]:
        """What is left of each cap for this guard (None: no cap)."""
        left: dict[str, float | None] = {"run tokens": None, "run USD": None, "day tokens": None, "day USD": None}
        with self._lock:
            for name, allowance, committed, is_tokens in self._allowances():
                used = committed + (self.spent.tokens if is_tokens else self.spent.usd)
                left[name] = allowance - used
        return left

    @classmethod
    def from_lake(cls, store: ObjectStore, stage: str, run_id: str, budget: SpendBudget, prices: PriceList,
                  share: float = 1.0, exclude_keys: Collection[str] = ()) -> SpendGuard:
        """A guard for one shard (or a whole run): committed spend read from the lake's ledgers."""
        committed = committed_spend(store, stage, run_id, prices, exclude_keys=exclude_keys)
        return cls(budget, prices, committed, label=f"{stage} {run_id}", share=share)
