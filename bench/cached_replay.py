"""P2: replay of a fully cached run through LlmClient: zero calls and seconds for 10,000 requests.

The response cache is filled first through a zero-latency fake transport (this measures our cache path, not a
server); then every round replays all requests through a fresh LlmClient whose transport counts the calls it
gets. Goals: 0 calls, under 5 s per replay (median of the rounds). Informational: the engine's own cost per
request on the cold fill (cache key, SQLite lookup and write, parse, ledger; the transport answers at once).

    .venv/bin/python bench/cached_replay.py                    # 10,000 requests, 3 rounds -> bench/results/
    .venv/bin/python bench/cached_replay.py --quick --out /tmp/b # 500 requests, 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.llm_prompts import REPLY, annotation_requests, annotation_task  # noqa: E402
from bench.record import BenchRecord, Check, bench_args, finish, median_spread, spread_of  # noqa: E402
from boostqa.llm.cache import ResponseCache  # noqa: E402
from boostqa.llm.client import LlmClient  # noqa: E402
from boostqa.llm.fake import FakeTransport  # noqa: E402
from boostqa.llm.types import LlmEndpoint, LlmRequest  # noqa: E402

ENDPOINT = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="fake", max_concurrency=64)


def _run(cache: ResponseCache, requests: list[LlmRequest], schema: type, run_id: str) -> tuple[float, int]:
    """(seconds, calls the transport received) for one pass of ``requests`` through a fresh client."""
    transport = FakeTransport(lambda messages: REPLY)
    client = LlmClient(ENDPOINT, transport, cache, run_id)
    started = time.perf_counter()
    asyncio.run(client.run_batch(requests, schema))  # run_batch closes the transport on its own loop
    return time.perf_counter() - started, len(transport.calls)


def measure(count: int, rounds: int, workdir: Path, quick: bool) -> BenchRecord:
    task = annotation_task()
    requests = annotation_requests(task, count, distinct=True)  # one cache entry per request, as a real run
    cache = ResponseCache(workdir / "replay.sqlite")
    fill_s, fill_calls = _run(cache, requests, task.output_model, "fill")
    seconds: list[float] = []
    calls: list[float] = []
    for index in range(rounds):
        replay_s, replay_calls = _run(cache, requests, task.output_model, f"replay-{index}")
        seconds.append(replay_s)
        calls.append(float(replay_calls))
        print(f"round {index + 1}: {count:,} cached requests replayed in {replay_s:.2f} s, {replay_calls} calls",
              flush=True)
    cache.close()
    median_s = median_spread(seconds)[0]
    overhead_ms = fill_s * 1000 / count
    checks = [
        Check(measure="calls during the cached replay (most of any round)", ours=max(calls), unit="calls",
              value=max(calls), value_unit="calls", goal="== 0"),
        Check(measure=f"seconds to replay {count:,} cached requests (median)", ours=median_s, unit="s",
              value=median_s, value_unit="s", spread=spread_of(seconds), goal="< 5"),
        Check(measure="engine cost per request on the cold fill (zero-latency fake transport)", ours=overhead_ms,
              unit="ms", value=overhead_ms, value_unit="ms"),
    ]
    return BenchRecord.create(
        bench="cached_replay", title=f"cached replay through LlmClient, {count:,} requests", quick=quick,
        checks=checks, samples={"replay_seconds": seconds, "replay_calls": calls, "fill_seconds": [fill_s]},
        params={"requests": count, "rounds": rounds, "fill_calls": fill_calls, "max_concurrency": 64})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--requests", type=int, default=None, help="default 10,000 (quick: 500)")
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (quick: 1)")
    args = parser.parse_args()
    count = args.requests or (500 if args.quick else 10_000)
    rounds = args.rounds or (1 if args.quick else 3)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        record = measure(count, rounds, Path(tmp), args.quick)
    finish(record, args.out)


if __name__ == "__main__":
    main()
