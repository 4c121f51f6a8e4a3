"""Benchmark of the generation engine against a running OpenAI-compatible server (the embedded vLLM by default).

Prints:
  1. completion tokens/s of the engine (LlmClient: cache lookup, AIMD throttle, retries, parse, ledger) divided by
     a bare load generator's (AsyncOpenAI + a semaphore) on the same server, prompts and concurrency (goal >= 0.95);
  2. the engine's own per-request overhead, measured on a zero-latency fake transport;
  3. the time to replay a fully cached run of 10,000 requests (goal: seconds, zero calls).

    .venv/bin/boostqa stack up            # starts vLLM on 127.0.0.1:8000
    .venv/bin/python bench/llm_throughput.py --requests 32 --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date
from pathlib import Path

from boostqa.annotate.task import AnnotationTask, SeedToAnnotate
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.ingest.config import load_sources
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import split_rows
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient, gather_bounded
from boostqa.llm.fake import FakeTransport
from boostqa.llm.transport import OpenAiTransport
from boostqa.llm.types import LlmEndpoint, LlmRequest
from boostqa.settings import RESOURCES, get_settings

REPLY = '{"discipline": "physics", "difficulty": 3, "grade_band": "high_school", "rationale": "Kinematics."}'


def _requests(task: AnnotationTask, count: int) -> list[LlmRequest]:
    seeds: list[SeedToAnnotate] = []
    for source in load_sources(RESOURCES / "seed_sources.yaml"):
        valid, _ = split_rows(source, fetch_source(source), date(2026, 1, 1), "bench")
        seeds += [SeedToAnnotate(seed_id=s.seed_id, question=s.question, options=s.options, language=s.language)
                  for s in valid]
    seeds = (seeds * (count // len(seeds) + 1))[:count]
    return [task.build_request(seed).model_copy(update={"item_id": f"{i}-{seed.seed_id}"})
            for i, seed in enumerate(seeds)]


async def _bare(endpoint: LlmEndpoint, requests: list[LlmRequest], concurrency: int) -> tuple[float, int]:
    """Direct AsyncOpenAI calls with the same body the engine sends: the ceiling to compare against."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=endpoint.base_url, api_key="EMPTY", max_retries=0, timeout=600)
    semaphore = asyncio.Semaphore(concurrency)

    async def one(request: LlmRequest) -> int:
        async with semaphore:
            response = await client.chat.completions.create(
                model=endpoint.model, messages=request.messages,  # type: ignore[arg-type]
                response_format={"type": "json_schema", "json_schema": {
                    "name": request.schema_name, "schema": request.json_schema, "strict": True}},
                temperature=request.sampling.temperature, top_p=request.sampling.top_p,
                max_tokens=request.sampling.max_tokens, seed=request.sampling.seed)
            return response.usage.completion_tokens if response.usage else 0

    started = time.perf_counter()
    tokens = sum(await asyncio.gather(*(one(r) for r in requests)))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed, tokens


def _engine(endpoint: LlmEndpoint, task: AnnotationTask, requests: list[LlmRequest], cache: Path) -> tuple[float, int]:
    client = LlmClient(endpoint, OpenAiTransport(), ResponseCache(cache), run_id="bench")
    started = time.perf_counter()
    asyncio.run(gather_bounded([client.generate(r, task.output_model) for r in requests], limit=len(requests)))
    return time.perf_counter() - started, sum(r.completion_tokens for r in client.ledger.rows)


def _overhead_ms(task: AnnotationTask, requests: list[LlmRequest], workdir: Path) -> float:
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="fake", max_concurrency=64)
    client = LlmClient(endpoint, FakeTransport(lambda m: REPLY), ResponseCache(workdir / "overhead.sqlite"), "bench")
    started = time.perf_counter()
    asyncio.run(gather_bounded([client.generate(r, task.output_model) for r in requests], limit=256))
    return (time.perf_counter() - started) * 1000 / len(requests)


def _cached_replay(task: AnnotationTask, count: int, workdir: Path) -> tuple[float, int]:
    requests = _requests(task, count)
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="fake", max_concurrency=64)
    cache = ResponseCache(workdir / "replay.sqlite")
    fill = LlmClient(endpoint, FakeTransport(lambda m: REPLY), cache, "fill")
    asyncio.run(gather_bounded([fill.generate(r, task.output_model) for r in requests], limit=256))
    never = FakeTransport(lambda m: (_ for _ in ()).throw(AssertionError("a cached replay must not call")))
    replay = LlmClient(endpoint, never, cache, "replay")
    started = time.perf_counter()
    asyncio.run(gather_bounded([replay.generate(r, task.output_model) for r in requests], limit=256))
    return time.perf_counter() - started, replay.ledger.calls()


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default=settings.llm_base_url)
    parser.add_argument("--model", default=settings.llm_server.served_model_name)
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--replay", type=int, default=10_000)
    args = parser.parse_args()

    task = AnnotationTask(load_taxonomy())
    requests = _requests(task, args.requests)
    endpoint = LlmEndpoint(role="annotator", base_url=args.base_url, model=args.model,
                           max_concurrency=args.concurrency, max_reasks=0)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        asyncio.run(_bare(endpoint, requests[: args.concurrency], args.concurrency))  # warm the server
        rounds = []
        for round_index in range(2):
            # Interleaved, and the order flips each round: the server's prefix cache favours whoever goes second.
            engine_first = round_index % 2 == 1
            if engine_first:
                engine_s, engine_tokens = _engine(endpoint, task, requests, workdir / f"engine-{round_index}.sqlite")
            bare_s, bare_tokens = asyncio.run(_bare(endpoint, requests, args.concurrency))
            if not engine_first:
                engine_s, engine_tokens = _engine(endpoint, task, requests, workdir / f"engine-{round_index}.sqlite")
            rounds.append((bare_tokens / bare_s, engine_tokens / engine_s))
            print(f"round {round_index + 1}: bare {bare_tokens} tok in {bare_s:.1f}s = {rounds[-1][0]:.1f} tok/s; "
                  f"engine {engine_tokens} tok in {engine_s:.1f}s = {rounds[-1][1]:.1f} tok/s")
        ratio = sum(engine / bare for bare, engine in rounds) / len(rounds)
        print(f"throughput ratio engine/bare (mean of 2 order-flipped rounds, concurrency {args.concurrency}, "
              f"{args.requests} requests): {ratio:.3f}  (goal >= 0.95)")
        print(f"engine overhead per request (zero-latency transport): {_overhead_ms(task, requests, workdir):.3f} ms")
        seconds, calls = _cached_replay(task, args.replay, workdir)
        print(f"cached replay of {args.replay} requests: {seconds:.2f}s, {calls} calls  (goal: seconds, zero calls)")


if __name__ == "__main__":
    main()
