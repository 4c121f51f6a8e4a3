"""The generation engine and the annotation task against the real vLLM CPU server (SmolLM2-135M-Instruct)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from boostqa.annotate.task import AnnotationTask, SeedToAnnotate
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.ingest.config import get_source
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import split_rows
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient, LlmUnavailable
from boostqa.llm.transport import OpenAiTransport
from boostqa.llm.types import LlmEndpoint, LlmOutcome
from boostqa.settings import RESOURCES, BoostqaSettings
from boostqa_dev.stack import llm_server
from boostqa_dev.stack.process import stop

pytestmark = pytest.mark.integration


@pytest.fixture
def server(stack_with_llm: BoostqaSettings) -> BoostqaSettings:
    return stack_with_llm


def _seeds(count: int) -> list[SeedToAnnotate]:
    source = get_source(RESOURCES / "seed_sources.yaml", "open_stem_qa")
    seeds, _ = split_rows(source, fetch_source(source), date(2026, 1, 1), "r")
    return [SeedToAnnotate(seed_id=s.seed_id, question=s.question, options=s.options, language=s.language)
            for s in seeds[:count]]


def _client(settings: BoostqaSettings, cache: Path, max_attempts: int = 6) -> LlmClient:
    endpoint = LlmEndpoint(role="annotator", base_url=settings.llm_base_url,
                           model=settings.llm_server.served_model_name, max_concurrency=4, max_attempts=max_attempts)
    return LlmClient(endpoint, OpenAiTransport(), ResponseCache(cache), run_id="it", backoff_s=0.2)


def _annotate(client: LlmClient, seeds: list[SeedToAnnotate]) -> list[LlmOutcome]:
    task = AnnotationTask(load_taxonomy())
    requests = [task.build_request(seed) for seed in seeds]
    return asyncio.run(client.run_batch(requests, task.output_model))


def test_structured_annotation_then_a_rerun_makes_zero_calls(server: BoostqaSettings, tmp_path: Path) -> None:
    seeds = _seeds(4)
    first = _client(server, tmp_path / "cache.sqlite")
    outcomes = _annotate(first, seeds)
    assert [o.item_id for o in outcomes] == [s.seed_id for s in seeds]
    taxonomy = load_taxonomy()
    for outcome in outcomes:
        assert outcome.status in {"ok", "invalid"} and outcome.raw_text
        if outcome.status == "ok":
            assert outcome.parsed is not None and outcome.parsed["discipline"] in taxonomy.category_of
        else:
            assert outcome.reason
    # guided decoding makes the small model's replies valid JSON: at least one must validate, else nothing was tested
    assert any(o.status == "ok" for o in outcomes), [o.reason for o in outcomes]
    assert first.ledger.calls() >= len(seeds)
    assert all(r.prompt_tokens > 0 and r.completion_tokens > 0 for r in first.ledger.rows)

    replay = _client(server, tmp_path / "cache.sqlite")
    assert [o.model_dump(exclude={"cache_hit"}) for o in _annotate(replay, seeds)] == [
        o.model_dump(exclude={"cache_hit"}) for o in outcomes]
    assert replay.ledger.calls() == 0 and all(r.cache_hit for r in replay.ledger.rows)


def test_server_stopped_mid_run_then_restarted_completes_without_loss(server: BoostqaSettings, tmp_path: Path) -> None:
    seeds = _seeds(6)
    cache = tmp_path / "cache.sqlite"
    _annotate(_client(server, cache), seeds[:2])  # the part that finished before the outage
    stop(llm_server.service(server))
    with pytest.raises(LlmUnavailable, match="annotator server .* failed 2 times"):
        _annotate(_client(server, cache, max_attempts=2), seeds)
    llm_server.up(server)
    resumed = _client(server, cache)
    outcomes = _annotate(resumed, seeds)
    assert [o.item_id for o in outcomes] == [s.seed_id for s in seeds]  # every seed once, in order
    replayed = {r.item_id for r in resumed.ledger.rows if r.cache_hit}
    assert {s.seed_id for s in seeds[:2]} <= replayed  # finished work was not paid for twice
    assert resumed.ledger.calls() >= 4
