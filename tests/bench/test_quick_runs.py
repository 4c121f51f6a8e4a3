"""Smoke tests of every benchmark's --quick mode: each writes one record with checks and samples into --out."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.record import RESULTS, BenchRecord, read_record
from boostqa.launch.local import MONITOR_INTERVAL_S
from boostqa_dev.checkout import PROJECT_ROOT
from tests.bench.fake_openai import fake_openai

PIPELINE_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
TRAIN_PYTHON = PROJECT_ROOT / ".venv-train" / "bin" / "python"


def quick(python: Path, script: str, out: Path, *args: str, timeout: int = 300) -> BenchRecord:
    """Run ``bench/<script> --quick --out out`` and return the one record it wrote."""
    before = set(RESULTS.glob("*.json"))
    done = subprocess.run([str(python if python.exists() else sys.executable), f"bench/{script}", "--quick",
                           "--out", str(out), *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Event loop is closed" not in done.stderr
    assert set(RESULTS.glob("*.json")) == before, "a quick run wrote into bench/results"
    files = list(out.glob("*.json"))
    assert len(files) == 1, files
    record = read_record(files[0])
    assert record.quick and files[0].name == record.file_name
    return record


def _measured(record: BenchRecord) -> None:
    assert record.skipped is None
    assert record.checks and all(c.goal is None or c.passed is not None for c in record.checks)
    assert record.samples and all(record.samples.values())
    assert set(record.stats) == set(record.samples)


def test_cached_replay_quick(tmp_path: Path) -> None:
    record = quick(PIPELINE_PYTHON, "cached_replay.py", tmp_path)
    _measured(record)
    calls = next(c for c in record.checks if c.measure.startswith("calls"))
    assert calls.value == 0 and calls.passed
    assert record.params["requests"] == 500 and record.params["fill_calls"] == 500


@pytest.mark.integration  # a Ray head start (about 20 s): with `make test`, not in the fast loop
def test_ray_cluster_quick(tmp_path: Path) -> None:
    record = quick(PIPELINE_PYTHON, "ray_cluster.py", tmp_path)
    _measured(record)
    start, memory = (next(c for c in record.checks if c.measure.startswith(m))
                     for m in ("Ray head start", "Ray head mem"))
    assert start.value > 0 and memory.value > 0.1  # a real cluster was weighed: more than 100 MiB of processes
    assert record.samples["processes"][0] >= 3  # GCS, raylet, dashboard at least


@pytest.mark.integration  # 20 s: with `make test`, not in the fast loop
def test_dedup_quick(tmp_path: Path) -> None:
    record = quick(PIPELINE_PYTHON, "dedup.py", tmp_path)
    _measured(record)
    assert record.params["items"] == 5_000
    assert {"ours_items_per_s", "datatrove_items_per_s", "datatrove_14x8_items_per_s", "ratio"} <= set(record.samples)
    recall = next(c for c in record.checks if c.measure.startswith("recall") and c.goal)
    assert recall.passed and recall.anchor is not None


@pytest.mark.skipif(not TRAIN_PYTHON.exists(), reason="needs the training venv (make install)")
@pytest.mark.integration  # 30 s of DeepSpeed start-ups: with `make test`, not in the fast loop
def test_trainer_throughput_quick(tmp_path: Path) -> None:
    record = quick(TRAIN_PYTHON, "trainer_throughput.py", tmp_path)
    _measured(record)
    assert record.bench == "trainer_throughput" and record.params["precision"] == "fp32"
    steps = [len(record.samples[f"{side}_step_tokens_per_s"]) for side in ("ours", "plain", "zero2")]
    assert steps == [3, 3, 3] and record.params["deepspeed_config"] == "ds_data_parallel.json"
    assert record.params["torchrun_monitor_interval_s"] == MONITOR_INTERVAL_S  # ours runs torchrun as the launcher
    assert [c.goal for c in record.checks] == [">= 0.9", None]  # ZeRO-2 on one rank: information, no verdict


@pytest.mark.integration  # a nested `make test-fast` (pytest start-up, two workers): with `make test`
def test_test_time_quick_times_a_passing_suite(tmp_path: Path) -> None:
    record = quick(PIPELINE_PYTHON, "test_time.py", tmp_path, timeout=600)
    _measured(record)
    exit_code = next(c for c in record.checks if c.measure.startswith("suite exit code"))
    assert exit_code.value == 0 and exit_code.passed
    assert record.params["target"] == "test-fast" and " passed" in str(record.params["summary"])
    assert record.params["pytest_seconds"] and record.samples["test_seconds"][0] >= record.params["pytest_seconds"]


def test_llm_throughput_quick_on_a_fake_server(tmp_path: Path) -> None:
    """The measuring path without vLLM: rounds, alternation and a fresh prompt set per side and round."""
    with fake_openai() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        record = quick(PIPELINE_PYTHON, "llm_throughput.py", tmp_path, "--base-url", url, "--model", server.model)
        first_lines = Counter(server.first_lines)
    _measured(record)
    assert len(record.samples["ratio"]) >= 3
    # warm-up (one set per side) + one set per side and round, none reused: nothing for a prefix cache to carry over
    assert len(first_lines) == 2 + 2 * len(record.samples["ratio"])
    assert sorted(first_lines.values()) == [4, 4] + [8] * 2 * len(record.samples["ratio"])


def test_llm_throughput_without_a_server_is_skipped(tmp_path: Path) -> None:
    with fake_openai() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    record = quick(PIPELINE_PYTHON, "llm_throughput.py", tmp_path, "--base-url", url)  # the port is closed now
    assert record.skipped and "boostqa stack up" in record.skipped and not record.checks


def test_runner_quick_prints_the_table_and_refuses_results(tmp_path: Path) -> None:
    run = [str(PIPELINE_PYTHON if PIPELINE_PYTHON.exists() else sys.executable), "bench/run.py", "--quick"]
    done = subprocess.run([*run, "--only", "P2", "--out", str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "P2 cached_replay" in done.stdout and "pass" in done.stdout
    assert len(list(tmp_path.glob("cached_replay-*.json"))) == 1
    refused = subprocess.run([*run, "--only", "P2", "--out", str(RESULTS)], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=300, check=False)
    assert refused.returncode != 0 and "never writes into bench/results" in refused.stdout + refused.stderr


@pytest.mark.integration  # the training venv builds an engine: with `make test`, not in the fast loop
def test_training_dry_run_quick(tmp_path: Path) -> None:
    record = quick(PIPELINE_PYTHON, "training_dry_run.py", tmp_path, timeout=900)
    _measured(record)
    assert not record.failed, [c.measure for c in record.failed]
    report = record.params["report"]
    assert 8.0e9 < report["parameters"] < 8.1e9  # Llama-3-8B, built on the meta device
    assert report["batch"]["tokens_per_step"] == 1_048_576 and report["batch"]["steps_needed"] == 38_147
    scaled = report["scaled_engine"]
    assert scaled["zero_stage"] == 3 and scaled["gradient_checkpointing"] and scaled["optimizer_steps"] == 1
    assert scaled["architecture"]["num_key_value_heads"] == 8 and scaled["architecture"]["vocab_size"] == 128_256
    assert "--nproc_per_node=8" in record.params["launchers"]["kubernetes"]
