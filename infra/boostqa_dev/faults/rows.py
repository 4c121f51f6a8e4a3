"""One row of the fault matrix: what was injected, what became of every job, and whether that is the promised end."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field


class FaultRow(BaseModel):
    """A fault and its outcome.

    ``jobs`` are the units the stage had to finish (seeds, rows, items); each ends completed, quarantined (with a
    reason) or, for a run-permanent fault, in a fail-fast with ``message``. ``lost`` are jobs with none of these
    ends, ``duplicated`` those with more than one row. The verdict is green when nothing was lost or duplicated and
    every job (or the run, for ``expect_fail_fast``) ended the way the fault's class promises.
    """

    fault: str
    injected: int
    jobs: int
    completed: int = 0
    quarantined: dict[str, int] = Field(default_factory=dict)
    lost: int = 0
    duplicated: int = 0
    retries: int = 0
    fail_fast: bool = False
    message: str = ""
    expect_fail_fast: bool = False
    expect_reasons: list[str] = Field(default_factory=list)  # quarantine reasons the fault may produce
    wall_s: float = 0.0
    checks: dict[str, bool] = Field(default_factory=dict)  # row-specific conditions (e.g. Retry-After honoured)

    @property
    def green(self) -> bool:
        """Whether the row's verdict is green."""
        if self.injected <= 0 or self.lost or self.duplicated or not all(self.checks.values()):
            return False
        if self.expect_fail_fast:
            return self.fail_fast and bool(self.message)
        accounted = self.completed + sum(self.quarantined.values()) == self.jobs
        return not self.fail_fast and accounted and set(self.quarantined) <= set(self.expect_reasons)

    def record(self) -> dict[str, Any]:
        """The row as the benchmark record stores it (verdict included)."""
        return self.model_dump() | {"verdict": "green" if self.green else "red"}


def outcome_counts(job_ids: list[str], completed: list[str], quarantined: list[tuple[str, str]]
                   ) -> tuple[int, dict[str, int], int, int]:
    """(completed, quarantined by reason, lost, duplicated) of ``job_ids`` given the rows each end wrote."""
    ends = Counter(completed) + Counter(item for item, _ in quarantined)
    wanted = set(job_ids)
    lost = sum(1 for job in wanted if ends[job] == 0)
    duplicated = sum(1 for job, n in ends.items() if n > 1) + sum(1 for job in ends if job not in wanted)
    reasons = Counter(reason for item, reason in quarantined if item in wanted)
    return len(set(completed) & wanted), dict(sorted(reasons.items())), lost, duplicated
