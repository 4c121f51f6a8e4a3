"""Fixtures shared by the end-to-end tests: the annotated stack the scheduled chain starts from, and headless
Chromium for the tests that read pages as a reader does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from boostqa.settings import BoostqaSettings
from boostqa_dev.demo import run_dag

# Chromium as root on a closed network: no sandbox, no GPU, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]

ANNOTATED_DAY = date(2026, 11, 25)
ANNOTATED_SEEDS = 16


@pytest.fixture(scope="session")
def annotated_stack(stack_with_llm: BoostqaSettings) -> BoostqaSettings:
    """The stack with its seeds ingested and ``ANNOTATED_SEEDS`` of them annotated by the real vLLM server, once per
    session: the tests of the scheduled chain (warehouse, synthesis, export, training) start from it."""
    run_dag(stack_with_llm, "seed_ingest", ANNOTATED_DAY)
    run_dag(stack_with_llm, "seed_annotate", ANNOTATED_DAY,
            conf={"limit": ANNOTATED_SEEDS, "shard_size": ANNOTATED_SEEDS})
    return stack_with_llm


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
