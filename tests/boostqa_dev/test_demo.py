"""The demo's progress relay: it must recognise the lines the engine's Progress writes."""

from __future__ import annotations

from boostqa.llm.progress import Progress
from boostqa_dev.demo import latest_progress


def test_latest_progress_finds_the_engine_progress_line_in_task_log_noise() -> None:
    progress = Progress("annotate annotate_2026-11-25", total=322)
    progress.advance(40)
    first = progress.line()
    progress.advance(60)
    last = progress.line()
    log = (f"[2026-11-25 20:00:01] INFO - {first} source=boostqa.llm.progress\n"
           "[2026-11-25 20:00:05] INFO - HTTP Request: POST http://127.0.0.1:8000/v1/chat/completions\n"
           f"[2026-11-25 20:00:11] INFO - {last} source=boostqa.llm.progress\n")
    assert latest_progress(log) == last
    assert last.startswith("annotate annotate_2026-11-25: 100/322 (")
    assert latest_progress("no progress here: 3/4 items") is None
