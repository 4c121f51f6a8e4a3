"""P1: completion tokens/s of our engine (LlmClient) against a bare AsyncOpenAI client on the same vLLM server.

Both sides send the same annotation requests at the same concurrency: the engine through LlmClient (cache
lookup, AIMD throttle, retries, parse, ledger; re-asks off so both make one call per request), the anchor as
bare ``chat.completions.create`` calls under a semaphore. Every side of every round gets prompts of its own (a
nonce line first), so vLLM's prefix cache never carries one side's work over to the other or to a later round;
both warm up alike before the first round; rounds alternate which side goes first. Goal: the median over rounds
of engine tokens/s / bare tokens/s >= 0.95.

Runs on the dev stack's vLLM when one answers (`.venv/bin/boostqa stack up`); otherwise it starts a private
embedded vLLM of its own (own state folder and port, the model from the checkout's cache) and stops it after, so
`make bench` needs no stack and leaves the default ports to P6. A server given by --base-url that does not answer
makes the record skipped, not failed.

    .venv/bin/python bench/llm_throughput.py                          # 32 requests x 4 rounds -> bench/results/
    .venv/bin/python bench/llm_throughput.py --quick --out /tmp/b     # 8 requests x 3 rounds
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.llm_prompts import annotation_requests, annotation_task  # noqa: E402
from bench.record import BenchRecord, Check, bench_args, finish, median_spread, spread_of  # noqa: E402
from boostqa.annotate.task import AnnotationTask  # noqa: E402
from boostqa.errors import StackError  # noqa: E402
from boostqa.llm.cache import ResponseCache  # noqa: E402
from boostqa.llm.client import LlmClient  # noqa: E402
from boostqa.llm.transport import OpenAiTransport  # noqa: E402
from boostqa.llm.types import LlmEndpoint, LlmRequest  # noqa: E402

if TYPE_CHECKING:
    from boostqa.settings import BoostqaSettings

BENCH = "llm_throughput"
TITLE = "engine (LlmClient) vs bare AsyncOpenAI on the same vLLM server"
HOW_TO_START = "start it with `.venv/bin/boostqa stack up`"


def server_problem(base_url: str, model: str) -> str | None:
    """Why the server cannot be measured (unreachable, model not served), or None when it can."""
    import httpx

    try:
        response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=5)
        response.raise_for_status()
        served = [m["id"] for m in response.json().get("data", [])]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return f"no LLM server answers at {base_url} ({type(exc).__name__}); {HOW_TO_START}"
    if model not in served:
        return f"the server at {base_url} serves {served}, not {model!r} (--model)"
    return None


async def _bare(endpoint: LlmEndpoint, requests: list[LlmRequest]) -> int:
    """The anchor: direct AsyncOpenAI calls with the body the engine sends; returns completion tokens."""
    from openai import AsyncOpenAI

    semaphore = asyncio.Semaphore(endpoint.max_concurrency)
    # `async with` closes the client's connections on this loop (a client left open is closed by GC on a dead
    # loop: the "Event loop is closed" traceback).
    async with AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key.get_secret_value(),
                           max_retries=0, timeout=endpoint.timeout_s) as client:

        async def one(request: LlmRequest) -> int:
            async with semaphore:
                response = await client.chat.completions.create(
                    model=endpoint.model, messages=request.messages,  # type: ignore[arg-type]
                    response_format={"type": "json_schema", "json_schema": {
                        "name": request.schema_name, "schema": request.json_schema, "strict": True}},
                    temperature=request.sampling.temperature, top_p=request.sampling.top_p,
                    max_tokens=request.sampling.max_tokens, seed=request.sampling.seed)
                return response.usage.completion_tokens if response.usage else 0

        return sum(await asyncio.gather(*(one(r) for r in requests)))


def run_bare(endpoint: LlmEndpoint, requests: list[LlmRequest]) -> tuple[float, int]:
    started = time.perf_counter()
    tokens = asyncio.run(_bare(endpoint, requests))
    return time.perf_counter() - started, tokens


def run_engine(endpoint: LlmEndpoint, task: AnnotationTask, requests: list[LlmRequest], cache: Path
               ) -> tuple[float, int]:
    """The engine on a fresh cache file; run_batch closes its transport on the loop that opened it."""
    client = LlmClient(endpoint, OpenAiTransport(), ResponseCache(cache), run_id="bench")
    started = time.perf_counter()
    asyncio.run(client.run_batch(requests, task.output_model))
    seconds = time.perf_counter() - started
    client.cache.close()
    return seconds, sum(r.completion_tokens for r in client.ledger.rows if not r.cache_hit)


def measure(endpoint: LlmEndpoint, count: int, rounds: int, workdir: Path, quick: bool) -> BenchRecord:
    task = annotation_task()
    batch = uuid.uuid4().hex[:8]  # a new nonce family per run: nothing cached by an earlier run either

    def fresh(side: str, label: str, n: int) -> list[LlmRequest]:
        return annotation_requests(task, n, nonce=f"{batch}-{label}-{side}")

    # Equal warm-up: each side once, on prompts of its own (compiles the schema's grammar, fills the pools).
    run_engine(endpoint, task, fresh("engine", "warmup", endpoint.max_concurrency), workdir / "warmup.sqlite")
    run_bare(endpoint, fresh("bare", "warmup", endpoint.max_concurrency))
    samples: dict[str, list[float]] = {k: [] for k in ("ratio", "engine_tokens_per_s", "bare_tokens_per_s",
                                                       "engine_tokens", "bare_tokens")}
    for index in range(rounds):
        engine_requests, bare_requests = fresh("engine", f"r{index}", count), fresh("bare", f"r{index}", count)
        engine_first = index % 2 == 0  # the order flips every round
        if engine_first:
            engine_s, engine_tokens = run_engine(endpoint, task, engine_requests, workdir / f"r{index}.sqlite")
        bare_s, bare_tokens = run_bare(endpoint, bare_requests)
        if not engine_first:
            engine_s, engine_tokens = run_engine(endpoint, task, engine_requests, workdir / f"r{index}.sqlite")
        engine_rate, bare_rate = engine_tokens / engine_s, bare_tokens / bare_s
        for key, value in (("ratio", engine_rate / bare_rate), ("engine_tokens_per_s", engine_rate),
                           ("bare_tokens_per_s", bare_rate), ("engine_tokens", engine_tokens),
                           ("bare_tokens", bare_tokens)):
            samples[key].append(float(value))
        print(f"round {index + 1} ({'engine' if engine_first else 'bare'} first): engine {engine_tokens} tok in "
              f"{engine_s:.1f} s = {engine_rate:.1f} tok/s; bare {bare_tokens} tok in {bare_s:.1f} s = "
              f"{bare_rate:.1f} tok/s; ratio {engine_rate / bare_rate:.3f}", flush=True)
    check = Check(measure="completion tokens/s, engine / bare (median of rounds)",
                  ours=median_spread(samples["engine_tokens_per_s"])[0],
                  anchor=median_spread(samples["bare_tokens_per_s"])[0], unit="tok/s",
                  value=median_spread(samples["ratio"])[0], value_unit="x", spread=spread_of(samples["ratio"]),
                  goal=">= 0.95")
    return BenchRecord.create(
        bench=BENCH, title=f"{TITLE}, {count} requests x {rounds} rounds", quick=quick, checks=[check],
        samples=samples, params={"base_url": endpoint.base_url, "model": endpoint.model, "requests": count,
                                 "rounds": rounds, "concurrency": endpoint.max_concurrency, "max_reasks": 0})


@contextmanager
def own_server(settings: BoostqaSettings) -> Iterator[str]:
    """A private embedded vLLM for this run (its own state folder and free port); yields its base URL."""
    from boostqa_dev.stack import llm_server
    from boostqa_dev.stack.ports import free_ports
    from boostqa_dev.stack.process import stop

    with tempfile.TemporaryDirectory(prefix="bench-vllm-") as tmp:
        private = settings.model_copy(update={
            "state_dir": Path(tmp), "ports": settings.ports.model_copy(update={"llm": free_ports(1, 0)[0]}),
            "llm_server": settings.llm_server.model_copy(update={
                "models_dir": settings.llm_server.models_dir or settings.state_dir / "models"})})
        print(f"no LLM server at {settings.llm_base_url}: starting a private one at {private.llm_base_url}", flush=True)
        try:  # up() starts the process before it waits: a failed or interrupted wait must still stop it
            llm_server.up(private)
            yield private.llm_base_url
        finally:
            stop(llm_server.service(private))


def main() -> None:
    from boostqa.settings import get_settings
    from boostqa_dev.checkout import use_checkout_defaults

    use_checkout_defaults()  # as `boostqa stack up` does: the checkout's state folder and vLLM venv
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--base-url", help=f"an OpenAI-compatible server (default: {settings.llm_base_url} when it "
                        "answers, else a private embedded vLLM)")
    parser.add_argument("--model", default=settings.llm_server.served_model_name)
    parser.add_argument("--requests", type=int, default=None, help="per side and round; default 32 (quick: 8)")
    parser.add_argument("--rounds", type=int, default=None, help="default 4 (quick: 3); at least 3")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    count = args.requests or (8 if args.quick else 32)
    rounds = max(3, args.rounds or (3 if args.quick else 4))
    embedded = settings.llm_server.enabled and args.model == settings.llm_server.served_model_name
    if args.base_url is None and embedded and server_problem(settings.llm_base_url, args.model):
        try:
            with own_server(settings) as base_url:
                record = run(base_url, args, count, rounds)
        except StackError as exc:  # e.g. no .venv-vllm: nothing to measure on, which is not a failed goal
            record = BenchRecord.create(bench=BENCH, title=TITLE, quick=args.quick, skipped=f"no LLM server at "
                                        f"{settings.llm_base_url}, and a private one did not start: {exc}",
                                        params={"model": args.model})
    else:
        record = run(args.base_url or settings.llm_base_url, args, count, rounds)
    finish(record, args.out)


def run(base_url: str, args: argparse.Namespace, count: int, rounds: int) -> BenchRecord:
    """The record of one P1 run against ``base_url`` (skipped when nothing serves the model there)."""
    problem = server_problem(base_url, args.model)
    if problem:
        return BenchRecord.create(bench=BENCH, title=TITLE, quick=args.quick, skipped=problem,
                                  params={"base_url": base_url, "model": args.model})
    endpoint = LlmEndpoint(role="annotator", base_url=base_url, model=args.model, max_concurrency=args.concurrency,
                           max_reasks=0)
    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        return measure(endpoint, count, rounds, Path(tmp), args.quick)


if __name__ == "__main__":
    main()
