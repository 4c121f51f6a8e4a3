"""Evaluate one model on its benchmarks: requests files -> one model-side run -> responses -> scored parquet in S3.

The model side is ``training/lm_requests.py`` in the training venv (an HF folder: CPU here, a GPU worker in
production) or, for generative benchmarks only, an OpenAI-compatible server (vLLM). Requests and responses
are kept in a work folder, so a rerun after a crash reuses finished model work; lake parts are replaced, so a
rerun never duplicates results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr

from boostqa.benchmarks.loader import BenchmarkSource, SourceKind
from boostqa.errors import ConfigError
from boostqa.eval.prompts import EvalDoc
from boostqa.eval.score import benchmark_metrics, score_docs
from boostqa.eval.tasks import EvalTaskSettings, load_docs, model_requests
from boostqa.lake import layout
from boostqa.lake.parquet import write_rows
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import ITEM_RESULT_SCHEMA, SCORE_SCHEMA
from boostqa.settings import get_settings, require_path

log = logging.getLogger(__name__)
_MODEL_FILES = {".json", ".safetensors", ".bin", ".model", ".txt"}


class ModelTarget(BaseModel):
    """The model under evaluation: an HF folder, or an OpenAI-compatible server for generative tasks."""

    model_id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="names the results (baseline, midtrain_...)")
    hf_folder: str | None = None
    server_url: str | None = None
    served_model: str | None = None
    checkpoint_id: str | None = Field(default=None, description="the training run that produced the model")
    mixture_version: str | None = Field(default=None, description="the mixture that run trained on")

    @property
    def path(self) -> str:
        """Where the model lives, for the record."""
        return self.hf_folder or f"{self.server_url}#{self.served_model}"

    @cached_property
    def identity(self) -> str:
        """Content identity of the model.

        A sha256 over its HF folder's config and weight files (names and bytes), or over the server URL and served name
        (both when an HF model's generations go to a server). Answers on disk are filed under it, so a model id that
        now names other weights (a new baseline folder, a retrained checkpoint) or another generation path never
        reuses old answers.
        """
        digest = hashlib.sha256()
        if self.server_url:
            digest.update(f"{self.server_url}#{self.served_model}".encode())
        if not self.hf_folder:
            return digest.hexdigest()
        folder = Path(self.hf_folder)
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in _MODEL_FILES):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
        return digest.hexdigest()

    @property
    def answers_key(self) -> str:
        """Folder name of the model's answers on disk: its id and a prefix of its content identity."""
        return f"{self.model_id}-{self.identity[:12]}"


class ModelRuntime(BaseModel):
    """How the HF model side runs: device, precision and batch size (``training.lm_requests``' options)."""

    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="auto: the GPU when there is one")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(default="auto", description="auto: bf16 on a "
                                                                     "GPU, fp32 on the CPU")
    batch_size: int | None = Field(default=8, ge=1, description="None: the largest that fits the GPU's memory")
    server_api_key: SecretStr | None = Field(default=None, description="key of the generation server (else the "
                                             "BOOSTQA_EVAL_API_KEY variable)")

    def args(self) -> list[str]:
        """The model process's command-line options."""
        return ["--device", self.device, "--dtype", self.dtype,
                "--batch-size", "auto" if self.batch_size is None else str(self.batch_size)]


class BenchmarkResult(BaseModel):
    """Small, XCom-friendly summary of one benchmark's evaluation."""

    model_id: str
    benchmark: str
    items: int
    metrics: dict[str, float]
    reused_responses: bool


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    os.replace(partial, path)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_hf_model(hf_folder: Path, requests_path: Path, responses_path: Path, python: Path | None = None,
                 runtime: ModelRuntime | None = None) -> None:
    """Answer the requests with ``training.lm_requests`` in the training venv; its progress goes to our log.

    ``python`` defaults to the ``BOOSTQA_TRAINER__VENV`` one, run from ``BOOSTQA_TRAINER__CODE_DIR``.

    Raises:
        ConfigError: no training venv or no model folder (not worth a retry).
        RuntimeError: the model process failed (its last output is in the message).
    """
    trainer = get_settings().trainer
    python = python or require_path(trainer.venv, "BOOSTQA_TRAINER__VENV") / "bin" / "python"
    if not python.exists():
        raise ConfigError(f"{python} is missing: run `make install` (it builds .venv-train)")
    if not (hf_folder / "config.json").exists():
        raise ConfigError(f"{hf_folder} is not an HF model folder (no config.json)")
    command = [str(python), "-m", "training.lm_requests", "--model", str(hf_folder), "--requests",
               str(requests_path), "--out", str(responses_path), *(runtime or ModelRuntime()).args()]
    lines: list[str] = []
    code_dir = require_path(trainer.code_dir, "BOOSTQA_TRAINER__CODE_DIR")
    with subprocess.Popen(command, cwd=code_dir, stderr=subprocess.PIPE, text=True,  # noqa: S603
                          env={**os.environ, "TOKENIZERS_PARALLELISM": "false"}) as process:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip())
            if line.startswith("[lm_requests]"):
                log.info("%s", line.rstrip())
    if process.returncode != 0:
        raise RuntimeError(f"model process exited {process.returncode}:\n" + "\n".join(lines[-30:]))


def run_server_model(target: ModelTarget, requests: list[dict[str, Any]], responses_path: Path,
                     concurrency: int = 4, api_key: SecretStr | None = None) -> None:
    """Answer generative requests with an OpenAI-compatible completions endpoint (greedy)."""
    if any(r["kind"] != "generate" for r in requests):
        raise ConfigError("a server target scores generative benchmarks only: log-likelihoods need an HF folder")
    from openai import OpenAI  # noqa: PLC0415 - only the server path needs it

    key = api_key.get_secret_value() if api_key else os.environ.get("BOOSTQA_EVAL_API_KEY", "EMPTY")
    client = OpenAI(base_url=target.server_url, api_key=key,
                    max_retries=5, timeout=600)

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        completion = client.completions.create(model=target.served_model or "", prompt=request["context"],
                                               max_tokens=request["max_new_tokens"], temperature=0.0,
                                               stop=request["until"][:4])
        return {"request_id": request["request_id"], "text": completion.choices[0].text}

    with ThreadPoolExecutor(concurrency) as pool:
        _write_jsonl(responses_path, list(pool.map(answer, requests)))


def _responses_cover(path: Path, requests: list[dict[str, Any]]) -> bool:
    if not path.exists():
        return False
    return {r["request_id"] for r in _read_jsonl(path)} == {r["request_id"] for r in requests}


def _answer_pending(target: ModelTarget, pending: dict[str, list[dict[str, Any]]], work_dir: Path,
                    runtime: ModelRuntime | None = None) -> None:
    """One model-side run (one model load) for every benchmark whose responses are not on disk yet.

    The answers are then filed per benchmark (responses first, requests last: a crash never leaves a reusable half).
    """
    batch = work_dir / target.answers_key / "_batch"
    batch.mkdir(parents=True, exist_ok=True)
    requests = [r for benchmark_requests in pending.values() for r in benchmark_requests]
    log.info("%s: %d requests for %s", target.model_id, len(requests), ", ".join(pending))
    if not (target.hf_folder or target.server_url):
        raise ConfigError(f"model {target.model_id} has neither an HF folder nor a server URL")
    # With both, the server generates (vLLM batches far better) and the HF folder scores log-likelihoods.
    to_server = [r for r in requests if target.server_url and (r["kind"] == "generate" or not target.hf_folder)]
    served = {r["request_id"] for r in to_server}
    in_process = [r for r in requests if r["request_id"] not in served]
    answers: dict[str, dict[str, Any]] = {}
    if to_server:
        run_server_model(target, to_server, batch / "server_responses.jsonl",
                         api_key=runtime.server_api_key if runtime else None)
        answers |= {r["request_id"]: r for r in _read_jsonl(batch / "server_responses.jsonl")}
    if in_process:  # the model process's input, written once
        _write_jsonl(batch / "requests.jsonl", in_process)
        run_hf_model(Path(target.hf_folder or ""), batch / "requests.jsonl", batch / "responses.jsonl",
                     runtime=runtime)
        answers |= {r["request_id"]: r for r in _read_jsonl(batch / "responses.jsonl")}
    for benchmark, benchmark_requests in pending.items():
        folder = work_dir / target.answers_key / benchmark
        _write_jsonl(folder / "responses.jsonl", [answers[r["request_id"]] for r in benchmark_requests])
        _write_jsonl(folder / "requests.jsonl", benchmark_requests)


def _score(store: ObjectStore, target: ModelTarget, benchmark: str, docs: list[EvalDoc], shots: int,
           responses_path: Path, eval_run_id: str) -> tuple[int, dict[str, float]]:
    """Score one benchmark's responses and replace its ``eval/items`` and ``eval/scores`` parts."""
    responses = {r["request_id"]: r for r in _read_jsonl(responses_path)}
    ids = {"model_id": target.model_id, "eval_run_id": eval_run_id, "evaluated_at": datetime.now(UTC),
           "checkpoint_id": target.checkpoint_id, "mixture_version": target.mixture_version,
           "model_sha256": target.identity}
    results = [ids | row for row in score_docs(docs, responses, shots)]
    metrics = benchmark_metrics(docs, results)
    write_rows(store, layout.eval_part("items", target.model_id, benchmark), results, ITEM_RESULT_SCHEMA)
    scores = [ids | {"benchmark": benchmark, "metric": m, "value": v, "items": len(results), "num_fewshot": shots,
                     "model_path": target.path} for m, v in metrics.items()]
    write_rows(store, layout.eval_part("scores", target.model_id, benchmark), scores, SCORE_SCHEMA)
    return len(results), metrics


def evaluate_model(store: ObjectStore, target: ModelTarget, benchmarks: Sequence[str], settings: EvalTaskSettings,
                   work_dir: Path, eval_run_id: str, source: BenchmarkSource | SourceKind = "local",
                   runtime: ModelRuntime | None = None
                   ) -> list[BenchmarkResult]:
    """Score ``target`` on ``benchmarks`` with one model-side run, then write each benchmark's lake parts.

    ``runtime`` says how an HF model runs (device, precision, batch size; default: the GPU when there is one).

    Benchmarks whose requests and responses are already in ``work_dir`` (a rerun, or a retry after a crash) are
    not sent to the model again.
    """
    started = time.perf_counter()
    docs = {b: load_docs(b, settings, source, store.config) for b in benchmarks}
    pending: dict[str, list[dict[str, Any]]] = {}
    for benchmark in benchmarks:
        requests = model_requests(docs[benchmark], settings.max_new_tokens)
        folder = work_dir / target.answers_key / benchmark
        folder.mkdir(parents=True, exist_ok=True)
        previous = _read_jsonl(folder / "requests.jsonl") if (folder / "requests.jsonl").exists() else None
        if not (previous == requests and _responses_cover(folder / "responses.jsonl", requests)):
            pending[benchmark] = requests
    if pending:
        _answer_pending(target, pending, work_dir, runtime)
    results = []
    for benchmark in benchmarks:
        shots = settings.fewshot_for(benchmark)
        items, metrics = _score(store, target, benchmark, docs[benchmark], shots,
                                work_dir / target.answers_key / benchmark / "responses.jsonl", eval_run_id)
        log.info("%s on %s: %s (%d items, %d-shot%s)", target.model_id, benchmark,
                 ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()), items, shots,
                 "" if benchmark in pending else ", responses reused")
        results.append(BenchmarkResult(model_id=target.model_id, benchmark=benchmark, items=items, metrics=metrics,
                                       reused_responses=benchmark not in pending))
    log.info("%s: %d benchmarks in %.0f s", target.model_id, len(benchmarks), time.perf_counter() - started)
    return results


def evaluate_benchmark(store: ObjectStore, target: ModelTarget, benchmark: str, settings: EvalTaskSettings,
                       work_dir: Path, eval_run_id: str, source: BenchmarkSource | SourceKind = "local"
                       ) -> BenchmarkResult:
    """Score ``target`` on one benchmark (see :func:`evaluate_model`)."""
    return evaluate_model(store, target, [benchmark], settings, work_dir, eval_run_id, source)[0]
