"""The LLM rows of the fault matrix: per fault kind, one annotate run through the fault proxy to the real server.

Each row gets a bucket of its own on the stack's S3 and a fresh response cache: the bundled seed source is ingested
into it, an annotate run is frozen and its shards annotated with the library code the Airflow tasks run, and the
lake is read back. Every seed must end annotated or quarantined (once). A run-permanent fault (401) must instead
fail the shard at once with a message naming the connection, and the same run, resumed once the fault is gone,
must then end every seed.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.finish import finish_run
from boostqa.annotate.runner import annotate_shard
from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.annotate.worklist import freeze_worklist, load_frozen, shard_seeds
from boostqa.errors import ConfigError
from boostqa.ingest.config import get_source
from boostqa.ingest.runner import ingest_source
from boostqa.lake import layout
from boostqa.lake.commits import read_committed_shards
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.transport import OpenAiTransport
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import RESOURCES
from boostqa_dev.faults.proxy import KINDS, FaultPlan, FaultProxy
from boostqa_dev.faults.rows import FaultRow, outcome_counts
from boostqa_dev.stack.ports import free_ports

SOURCE = "open_stem_qa"
DAY = date(2026, 1, 1)
# Quarantine reasons a row may end in: the small model's own invalid JSON in every row, plus the fault's own.
OWN_REASON = {"http_400": "llm_rejected", "finish_length": "truncated", "empty_reply": "invalid_output"}


def _lake(config: LakeConfig, kind: str) -> ObjectStore:
    store = ObjectStore(config.model_copy(update={"bucket": f"faults-{kind.replace('_', '-')}"}))
    store.ensure_bucket()
    store.delete_keys(store.list_keys(""))  # a rerun of the harness starts from an empty bucket
    return store


def _client(base_url: str, model: str, cache: Path, timeout_s: float) -> LlmClient:
    endpoint = LlmEndpoint(role="annotator", base_url=base_url, model=model, max_concurrency=4, timeout_s=timeout_s,
                           max_attempts=6)
    return LlmClient(endpoint, OpenAiTransport(), ResponseCache(cache), run_id="faults", backoff_s=0.2)


def _annotate_all(store: ObjectStore, run_id: str, task: AnnotationTask, client: LlmClient) -> None:
    results = [annotate_shard(store, run_id, shard, task, client) for shard in load_frozen(store, run_id).shard_ids()]
    finish_run(store, run_id, results)


def llm_row(config: LakeConfig, upstream: str, model: str, kind: str, seeds: int, rate: float, work: Path,
            seed: int = 0) -> FaultRow:
    """Run one fault kind over ``seeds`` seeds at ``rate``; the row says what became of each."""
    if kind not in KINDS:
        raise ValueError(f"unknown LLM fault {kind!r}")
    store = _lake(config, kind)
    ingest_source(get_source(RESOURCES / "seed_sources.yaml", SOURCE), DAY, store)
    run_id = f"annotate_faults_{kind}"
    run_config = AnnotateRunConfig.model_validate({"limit": seeds, "shard_size": max(seeds // 2, 1)})
    frozen = freeze_worklist(store, run_id, run_config)
    job_ids = [s.seed_id for shard in frozen.shard_ids() for s in shard_seeds(store, frozen, shard)]
    task = AnnotationTask(load_taxonomy())
    # A wrong API key refuses every request. A timeout holds a call until the client gives up: the client's timeout is
    # short for this row, yet well above a real call's latency on a loaded CPU server (else real calls time out too).
    plan = FaultPlan(kind=kind, rate=1.0 if kind == "http_401" else rate, seed=seed, hold_s=600.0)
    timeout_s = 30.0 if kind == "timeout" else 120.0
    started = time.monotonic()
    fail_fast, message = False, ""
    with FaultProxy(upstream, plan, free_ports(1, 0)[0]) as proxy:
        client = _client(proxy.base_url, model, work / f"{kind}.sqlite", timeout_s)
        try:
            _annotate_all(store, run_id, task, client)
        except ConfigError as exc:  # LlmRefused: what the operator's @fails_fast turns into AirflowFailException
            fail_fast, message = True, str(exc)
    seen = proxy.summary()
    checks: dict[str, bool] = {}
    if fail_fast:  # the fix: the same run, resumed straight against the server, ends every seed
        checks["message names the connection"] = "boostqa_llm_annotator" in message and "401" in message
        checks["nothing written before the refusal"] = not store.list_keys(layout.annotations_prefix(run_id))
        _annotate_all(store, run_id, task, _client(upstream, model, work / f"{kind}-resumed.sqlite", 120.0))
    labels = read_committed_shards(store, layout.annotations_prefix(run_id), layout.ANNOTATIONS, ["item_id"])
    rejects = read_committed_shards(store, layout.stage_quarantine_prefix("annotate", run_id), layout.ANNOTATIONS,
                                    ["item_id", "reason"])
    ledger = read_committed_shards(store, layout.ledger_prefix("annotate", run_id), layout.ANNOTATIONS,
                                   ["attempts", "cache_hit"])
    completed, quarantined, lost, duplicated = outcome_counts(
        job_ids, labels["item_id"].to_pylist() if labels is not None else [],
        list(zip(*(rejects[c].to_pylist() for c in ("item_id", "reason")), strict=True)) if rejects is not None
        else [])
    retries = sum(max(a - 1, 0) for a, hit in zip(*(ledger[c].to_pylist() for c in ("attempts", "cache_hit")),
                                                   strict=True) if not hit) if ledger is not None else 0
    if kind == "http_429":
        gap = seen["min_retry_after_gap_s"]
        checks["waited Retry-After"] = gap is not None and gap >= plan.retry_after_s - 0.05
        checks["every 429 retried"] = seen["rate_limited_never_retried"] == 0
    if kind in OWN_REASON and kind != "empty_reply":
        checks[f"hits quarantined as {OWN_REASON[kind]}"] = quarantined.get(OWN_REASON[kind], 0) >= 1
    if kind in ("http_500", "http_429", "timeout", "reset", "malformed_json"):
        checks["retried"] = retries >= 1
    if not fail_fast:  # an aborted batch drops its in-flight calls; otherwise every forwarded call must get through
        checks["no unplanned upstream error"] = seen["upstream_errors"] == 0
    return FaultRow(fault=f"llm {kind}", injected=seen["injected"].get(kind, 0), jobs=len(job_ids),
                    completed=completed, quarantined=quarantined, lost=lost, duplicated=duplicated, retries=retries,
                    fail_fast=fail_fast, message=message[:300], expect_fail_fast=kind == "http_401",
                    expect_reasons=sorted({"invalid_output", OWN_REASON.get(kind, "invalid_output")}),
                    wall_s=round(time.monotonic() - started, 1), checks=checks)
