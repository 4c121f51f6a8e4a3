"""The warehouse-lock row: readers (summary, report, `ops sql`) read while dbt holds the warehouse's write lock.

A writer process keeps one connection open to the live DuckDB file, as cosmos' dbt does during `warehouse_build`,
adds a batch of rows, checkpoints and publishes a snapshot, over and over. Meanwhile this process reads the
published snapshot as the readers do (``warehouse_snapshot`` + ``query``). Every read must succeed and see whole
batches only (a count that is a multiple of the batch), never fewer rows than an earlier read; opening the live
file itself must meet the writer's lock, which is what the snapshot spares the readers.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from boostqa.warehouse import publish_snapshot, query, warehouse_snapshot
from boostqa_dev.faults.rows import FaultRow

BATCH = 1000
_WRITER = """
import sys, time
from pathlib import Path
import duckdb
from boostqa.warehouse import publish_snapshot
live, seconds = Path(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + seconds
while True:  # the probing reader may hold the file for a moment as we open it: wait for it, as dbt's retry would
    try:
        con = duckdb.connect(str(live))  # held for the whole build, as dbt holds it
        break
    except duckdb.IOException:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)
published, stop = 0, time.monotonic() + seconds
while time.monotonic() < stop:
    con.execute("insert into t select range from range({batch})")
    con.execute("checkpoint")
    publish_snapshot(live)
    published += 1
    time.sleep(0.05)
print(published)
"""


def lock_row(folder: Path, seconds: float = 15.0) -> FaultRow:
    """Read the snapshot while a writer builds and publishes; count what each read saw."""
    import duckdb

    live = folder / "warehouse" / "boostqa.duckdb"
    live.parent.mkdir(parents=True, exist_ok=True)
    live.unlink(missing_ok=True)
    with duckdb.connect(str(live)) as con:
        con.execute(f"create table t as select range as i from range({BATCH})")
    publish_snapshot(live)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER.format(batch=BATCH), str(live), str(seconds)],  # noqa: S603
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    locked = False
    while not locked and writer.poll() is None and time.monotonic() - started < seconds / 2:
        try:  # until the writer has its connection open
            query(live, "select 1 as x")
            time.sleep(0.1)
        except duckdb.IOException:  # "Could not set lock on file": what a reader of the live file would meet
            locked = True
    counts, failures = [], []
    while writer.poll() is None:
        try:
            with warehouse_snapshot(live) as snapshot:
                counts.append(int(query(snapshot, "select count(*) as n from t")[0]["n"]))
        except Exception as exc:  # noqa: BLE001 - any failed read is the row's finding
            failures.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.02)
    out, err = writer.communicate()
    published = int(out.strip() or 0) if writer.returncode == 0 else 0
    whole = [n for n in counts if n % BATCH == 0]
    ordered = all(a <= b for a, b in zip(counts, counts[1:], strict=False))
    return FaultRow(fault="reads during a warehouse build (writer's lock held)", injected=published, jobs=len(counts)
                    + len(failures), completed=len(whole), lost=len(failures) + len(counts) - len(whole),
                    wall_s=round(time.monotonic() - started, 1),
                    message="; ".join(failures[:2]) or (err.strip()[-300:] if writer.returncode else ""),
                    checks={"the live file is locked by the writer": locked, "the writer published": published > 0,
                            "reads never go back": ordered, "reads saw new builds": len(set(counts)) > 1})
