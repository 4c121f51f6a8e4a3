"""Source freshness for the operator: dbt's ``sources.json`` judged as of a run's time, one actionable line per table.

``dbt source freshness`` measures each lake table's newest ``loaded_at_field`` against the warehouse clock. A
warehouse build judges it against its own run instead (:func:`judge`): a backfill or a replayed day (``airflow dags
test``) is checked as of the day it stands for, a scheduled run as of when it was due, so a week-old replay does
not fail on data that was fresh that day. The thresholds are dbt's (``_*__sources.yml``; docs/architecture.md,
"Source freshness"); a table with no rows yet (dbt's ``0001-01-01``) is as stale as can be, as dbt counts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["pass", "warn", "error", "runtime error"]
_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_NEVER = datetime(1, 1, 1, tzinfo=UTC)  # dbt's max_loaded_at for a table with no rows


class SourceFreshness(BaseModel):
    """One lake table's line of ``sources.json``: its newest load and its thresholds."""

    model_config = ConfigDict(frozen=True)

    source: str  # "<source>.<table>", e.g. "seeds.questions"
    max_loaded_at: datetime | None  # None: no rows yet
    warn_after: timedelta | None
    error_after: timedelta | None
    dbt_status: Status  # as dbt judged it, against the warehouse clock
    error: str | None = None  # dbt's message when the query itself failed

    def age(self, as_of: datetime) -> timedelta | None:
        """How old the newest load is at ``as_of`` (negative: loaded after it); None when nothing was loaded."""
        return None if self.max_loaded_at is None else as_of - self.max_loaded_at

    def status(self, as_of: datetime) -> Status:
        """Dbt's rule (error_after first, then warn_after, each strictly exceeded), applied at ``as_of``."""
        if self.dbt_status == "runtime error":
            return "runtime error"
        age = self.age(as_of)
        if self.error_after is not None and (age is None or age > self.error_after):
            return "error"
        if self.warn_after is not None and (age is None or age > self.warn_after):
            return "warn"
        return "pass"

    def describe(self, as_of: datetime) -> str:
        """One line an operator can act on: the table, how old, the thresholds, what writes it."""
        status = self.status(as_of)
        if status == "runtime error":
            return f"freshness RUNTIME ERROR {self.source}: dbt could not read it: {self.error}"
        age = self.age(as_of)
        loaded = ("no rows yet (its stage never wrote this table)" if age is None else
                  f"newest load {self.max_loaded_at:%Y-%m-%d %H:%M} UTC, {_span(age)} before {as_of:%Y-%m-%d %H:%M}")
        limits = ", ".join(f"{name} {_span(limit)}" for name, limit in
                           (("warn after", self.warn_after), ("error after", self.error_after)) if limit is not None)
        return f"freshness {status.upper()} {self.source}: {loaded} (thresholds: {limits})"


class FreshnessReport(BaseModel):
    """Every checked table judged at one time."""

    as_of: datetime
    sources: list[SourceFreshness]

    def with_status(self, *statuses: Status) -> list[SourceFreshness]:
        """The tables in one of ``statuses`` at :attr:`as_of`."""
        return [s for s in self.sources if s.status(self.as_of) in statuses]

    def stale(self) -> list[SourceFreshness]:
        """The tables that are not fresh: unreadable first, then errors, then warnings, each by name."""
        order = {"runtime error": 0, "error": 1, "warn": 2}
        return sorted(self.with_status("runtime error", "error", "warn"),
                      key=lambda s: (order[s.status(self.as_of)], s.source))

    def headline(self) -> str:
        """``source freshness as of <time> UTC: 7 tables, 5 pass, 1 warn, 1 error``."""
        statuses: tuple[Status, ...] = ("pass", "warn", "error", "runtime error")
        counts = {status: len(self.with_status(status)) for status in statuses}
        return (f"source freshness as of {self.as_of:%Y-%m-%d %H:%M} UTC: {len(self.sources)} tables, "
                + ", ".join(f"{n} {status}" for status, n in counts.items() if n))

    def log(self, logger: Any) -> None:
        """One line per stale table (errors at error level, warnings at warning level), then the headline."""
        for source in self.stale():
            level = logger.warning if source.status(self.as_of) == "warn" else logger.error
            level("%s", source.describe(self.as_of))
        logger.info("%s", self.headline())

    def summary(self) -> dict[str, Any]:
        """A small JSON-able result: the time and the tables per status."""
        return {"as_of": self.as_of.isoformat(),
                **{status.replace(" ", "_"): [s.source for s in self.with_status(status)]  # type: ignore[arg-type]
                   for status in ("pass", "warn", "error", "runtime error")}}


def _span(value: timedelta) -> str:
    """``3.2 days`` / ``5.0 hours`` / ``12 minutes``."""
    seconds = value.total_seconds()
    if abs(seconds) >= 86_400:
        return f"{seconds / 86_400:.1f} days"
    if abs(seconds) >= 3_600:
        return f"{seconds / 3_600:.1f} hours"
    return f"{seconds / 60:.0f} minutes"


def _threshold(criteria: Mapping[str, Any], name: str) -> timedelta | None:
    limit = criteria.get(name) or {}
    if limit.get("count") is None or limit.get("period") is None:
        return None
    return int(limit["count"]) * _PERIODS[limit["period"]]


def _timestamp(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None if parsed == _NEVER else parsed


def parse_sources(sources_json: Mapping[str, Any]) -> list[SourceFreshness]:
    """The results of dbt's ``sources.json`` (schema v3), one per checked table."""
    parsed = []
    for result in sources_json["results"]:
        name = result["unique_id"].split(".", 2)[2]  # source.<project>.<source>.<table>
        criteria = result.get("criteria") or {}
        parsed.append(SourceFreshness(
            source=name, max_loaded_at=_timestamp(result.get("max_loaded_at")),
            warn_after=_threshold(criteria, "warn_after"), error_after=_threshold(criteria, "error_after"),
            dbt_status=result["status"], error=None if result.get("error") is None else str(result["error"]),
        ))
    return parsed


def judge(sources_json: Mapping[str, Any], as_of: datetime) -> FreshnessReport:
    """``sources.json`` judged at ``as_of`` (naive values are taken as UTC)."""
    when = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    return FreshnessReport(as_of=when.astimezone(UTC), sources=parse_sources(sources_json))
