"""The secret-scan row: after a run, no secret's value may appear in a log, an XCom, a report or a dbt artifact.

The secrets are the values the stack was started with (the S3 secret key, Airflow's JWT secret, every LLM
connection's API key but the placeholder ``EMPTY``). Every file under the scanned folders is searched byte for byte,
the Airflow metadata database included (XComs, task logs' metadata). Files whose job is to hold a secret (the JWT
secret file, the shell environment file with the lake's keys, SeaweedFS' identity file) are skipped, by name.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from boostqa_dev.faults.rows import FaultRow

# Files that store a secret on purpose (0600, never shipped): searching them would find what they exist to hold.
SECRET_STORES = frozenset({"jwt_secret", "env.sh", "s3-identities.json"})
MIN_SECRET_CHARS = 8  # shorter values would match by chance


def secret_values(values: Iterable[str | None]) -> list[str]:
    """The values worth searching for (placeholders and short values left out)."""
    return sorted({v for v in values if v and v != "EMPTY" and len(v) >= MIN_SECRET_CHARS})


def scan(folders: Iterable[Path], secrets: list[str]) -> tuple[int, dict[str, list[str]]]:
    """(files scanned, file -> the secrets found in it, by their first 4 characters)."""
    needles = [(s.encode(), s[:4] + "…") for s in secrets]
    scanned, found = 0, {}
    for folder in folders:
        if not folder.exists():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
            if path.name in SECRET_STORES:
                continue
            scanned += 1
            data = path.read_bytes()
            hits = [label for needle, label in needles if needle in data]
            if hits:
                found[str(path)] = hits
    return scanned, found


def secret_row(folders: list[Path], secrets: list[str]) -> FaultRow:
    """The row: every file scanned is a job; one with a secret in it is a leak (counted as lost)."""
    started = time.monotonic()
    wanted = secret_values(secrets)
    scanned, found = scan(folders, wanted)
    return FaultRow(fault="secret scan (logs, XComs, reports, dbt artifacts)", injected=len(wanted), jobs=scanned,
                    completed=scanned - len(found), lost=len(found), wall_s=round(time.monotonic() - started, 1),
                    message="; ".join(f"{path}: {', '.join(hits)}" for path, hits in sorted(found.items()))[:300],
                    checks={"files scanned": scanned > 0})
