"""The annotation requests the LLM benchmarks send: the sample seeds through the real annotation prompt."""

from __future__ import annotations

from datetime import date
from functools import cache

from boostqa.annotate.task import AnnotationTask, SeedToAnnotate
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.ingest.config import load_sources
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import split_rows
from boostqa.llm.types import LlmRequest
from boostqa.settings import RESOURCES

# A reply that validates against the annotation schema, for the fake transport that fills caches.
REPLY = '{"discipline": "physics", "difficulty": 3, "grade_band": "high_school", "rationale": "Kinematics."}'


def annotation_task() -> AnnotationTask:
    return AnnotationTask(load_taxonomy())


@cache  # the benchmarks build several request lists per run from the same files
def sample_seeds() -> tuple[SeedToAnnotate, ...]:
    """Every valid seed of the bundled sample sources (local files: no network)."""
    seeds: list[SeedToAnnotate] = []
    for source in load_sources(RESOURCES / "seed_sources.yaml"):
        valid, _ = split_rows(source, fetch_source(source), date(2026, 1, 1), "bench")
        seeds += [SeedToAnnotate(seed_id=s.seed_id, question=s.question, options=s.options, language=s.language)
                  for s in valid]
    return tuple(seeds)


def annotation_requests(task: AnnotationTask, count: int, nonce: str = "", distinct: bool = False
                        ) -> list[LlmRequest]:
    """``count`` requests cycling over the sample seeds, each with its own item id.

    ``nonce`` (non-empty) becomes the first line of every prompt: a server's prefix cache then cannot carry
    anything over from requests sent with another nonce, while requests sharing it share their system prompt as
    a real batch does. ``distinct`` adds the request's index to that line, so no two requests share a cache key
    (the sample seeds repeat past a few hundred requests).
    """
    seeds = list(sample_seeds())
    seeds = (seeds * (count // len(seeds) + 1))[:count]
    requests = []
    for i, seed in enumerate(seeds):
        request = task.build_request(seed)
        update: dict[str, object] = {"item_id": f"{nonce or 'bench'}-{i}-{seed.seed_id}"}
        if nonce or distinct:
            first, *rest = request.messages
            line = f"[run {nonce or 'bench'}{f' item {i}' if distinct else ''}]"
            update["messages"] = [{**first, "content": f"{line}\n{first['content']}"}, *rest]
        requests.append(request.model_copy(update=update))
    return requests
