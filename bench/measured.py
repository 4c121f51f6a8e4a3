"""`make measured`: README's "Measured" table, generated from the newest record of each benchmark in bench/results.

Rewrites only what lies between the markers below; ``--check`` writes nothing and exits 1 when the README differs
from what the records say (tests/bench runs the same comparison).

    .venv/bin/python bench/measured.py            # rewrite README.md's table
    .venv/bin/python bench/measured.py --check    # exit 1 if it is stale or was edited by hand
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import RESULTS, BenchRecord, fmt, latest_records, value_text, verdict  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- measured:start -->", "<!-- measured:end -->"
HEADER = ("| what | ours | anchor | value | goal | verdict | date | commit | record |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _machine(record: BenchRecord) -> str:
    m = record.machine
    return (f"{m.cores} cores ({m.cpu_model}), {m.mem_total_gib:g} GiB RAM ({m.mem_available_gib:g} GiB available), "
            f"{m.gpu or 'no GPU'}, 1-minute load {m.load_avg_1m:g} at the start")


def render(records: dict[str, tuple[Path, BenchRecord]], root: Path = ROOT) -> str:
    """The generated body: one row per check (one per skipped record), then each record's machine."""
    rows = [HEADER]
    machines = []
    for path, record in records.values():
        link = f"[{path.name}]({path.relative_to(root).as_posix()})"
        tail = [f"{record.date:%Y-%m-%d}", f"`{record.commit[:7]}`" + (" (dirty)" if record.dirty else ""), link]
        if record.skipped is not None or not record.checks:
            rows.append("| " + " | ".join(_cell(c) for c in [record.title, "—", "—", "—", "—",
                                                              verdict(record, None), *tail]) + " |")
        for check in record.checks:
            cells = [f"{record.title}: {check.measure}", fmt(check.ours, check.unit), fmt(check.anchor, check.unit),
                     value_text(check), check.goal or "—", verdict(record, check), *tail]
            rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        machines.append(f"- `{path.name}`: {_machine(record)}")
    return "\n".join([*rows, "", "Machines:", "", *machines])


def replace_section(text: str, body: str) -> str:
    """``text`` with what lies between the markers replaced by ``body``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    return f"{text[: start + len(START)]}\n{body}\n{text[end:]}"


def current_section(text: str) -> str:
    """What lies between the markers now (without the newlines next to them)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    return text[start + len(START): end].strip("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when README.md differs")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    body = render(latest_records(args.results))
    text = README.read_text()  # read just before writing: others edit the rest of the README
    if args.check:
        if current_section(text) != body:
            raise SystemExit("README.md's Measured table differs from bench/results: run `make measured`")
        print("README.md's Measured table matches bench/results")
        return
    README.write_text(replace_section(text, body))
    print(f"README.md: Measured table from {len(latest_records(args.results))} records in {args.results}")


if __name__ == "__main__":
    main()
