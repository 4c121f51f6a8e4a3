"""README's Measured table: generated from bench/results only, every row backed by a record file."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bench.measured import README, current_section, render, replace_section
from bench.record import RESULTS, BenchRecord, Check, latest_records, write_record
from boostqa_dev.checkout import PROJECT_ROOT

LINK = re.compile(r"\]\((bench/results/[^)]+\.json)\)")


def _data_rows(section: str) -> list[str]:
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return rows[2:]  # header and separator


def test_every_row_links_a_record_that_exists() -> None:
    rows = _data_rows(current_section(README.read_text()))
    assert rows, "the Measured table has no rows"
    for row in rows:
        links = LINK.findall(row)
        assert len(links) == 1, f"row without a record link: {row}"
        assert (PROJECT_ROOT / links[0]).is_file(), f"{links[0]} does not exist: {row}"


def test_table_is_what_the_records_generate() -> None:
    """A hand edit, or a new record not yet rendered, fails here: run `make measured`."""
    assert current_section(README.read_text()) == render(latest_records(RESULTS))


def test_render_one_row_per_check_and_per_skipped_record(tmp_path: Path) -> None:
    results = tmp_path / "bench" / "results"
    measured = BenchRecord.create(bench="a", title="A | bench", quick=False, checks=[
        Check(measure="ratio", ours=2.0, anchor=1.0, unit="x/s", value=2.0, value_unit="x", spread=0.1, goal=">= 1"),
        Check(measure="info", value=0.5)])
    skipped = BenchRecord.create(bench="b", title="B", quick=False, skipped="no server")
    write_record(measured, results)
    path = write_record(skipped.model_copy(update={"date": skipped.date + timedelta(seconds=1)}), results)
    body = render(latest_records(results), root=tmp_path)
    rows = _data_rows(body)
    assert len(rows) == 3
    assert rows[0].startswith("| A \\| bench: ratio | 2 x/s | 1 x/s | 2.00× (spread 10%) | >= 1 | pass |")
    assert "| info |" in rows[1] and "skipped: no server" in rows[2]
    assert f"]({path.relative_to(tmp_path).as_posix()})" in rows[2]
    assert measured.commit[:7] in rows[0]


def test_replace_section_keeps_everything_outside_the_markers() -> None:
    text = "# T\n\nbefore\n<!-- measured:start -->\nold\n<!-- measured:end -->\nafter\n"
    new = replace_section(text, "| new |")
    assert new == "# T\n\nbefore\n<!-- measured:start -->\n| new |\n<!-- measured:end -->\nafter\n"
    assert current_section(new) == "| new |"
