"""Run identity: every stage run gets a unique, sortable, path-safe id with sub-day resolution."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from boostqa.errors import ConfigError

# <stage>_<YYYYMMDD>T<HHMMSS>Z_<8 hex>: sorts by start time (to the second), the hash of the orchestrator's own
# run id makes two runs started in the same second distinct, and nothing in it needs quoting in a path or an S3 key.
RUN_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*_\d{8}T\d{6}Z_[0-9a-f]{8}$")
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=-]{0,127}$")


def make_run_id(stage: str, started: datetime, source_run_id: str) -> str:
    """The run id of one run of ``stage``.

    Args:
        stage: short stage name (``synthesize``, ``plan``, ``mix``, ``midtrain`` ...).
        started: when the run was due (Airflow's ``run_after``); naive values are taken as UTC.
        source_run_id: the orchestrator's unique id of the run (Airflow's ``dag_run.run_id``); a retry or a
            cleared task of the same run has the same one, so it resumes the same boostqa run.

    Returns:
        e.g. ``synthesize_20261203T085512Z_1a2b3c4d``.
    """
    when = started if started.tzinfo else started.replace(tzinfo=UTC)
    digest = hashlib.sha256(source_run_id.encode()).hexdigest()[:8]
    run_id = f"{stage}_{when.astimezone(UTC):%Y%m%dT%H%M%S}Z_{digest}"
    if not RUN_ID_PATTERN.match(run_id):
        raise ConfigError(f"stage name {stage!r} makes an invalid run id {run_id!r}: use lower-case letters and "
                          "digits joined by single underscores")
    return run_id


def check_id(value: str, what: str = "run id") -> str:
    """``value`` if it is safe inside an S3 key or a path (letters, digits, ``_ . = -``), else a ConfigError."""
    if not SAFE_ID.match(value):
        raise ConfigError(f"{what} {value!r} is not path-safe: use letters, digits and _ . = - (at most 128)")
    return value


def run_day(run_id: str) -> str | None:
    """The UTC day (``YYYY-MM-DD``) a run started, read from its id; None for ids of another shape."""
    match = re.search(r"_(\d{4})(\d{2})(\d{2})T\d{6}Z_[0-9a-f]{8}$", run_id)
    return "-".join(match.groups()) if match else None
