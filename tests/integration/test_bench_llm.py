"""P1 (bench/llm_throughput.py --quick) against the real vLLM CPU server: a measured record, not a skipped one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.record import read_record
from boostqa.settings import PROJECT_ROOT, BoostqaSettings

pytestmark = pytest.mark.integration


@pytest.mark.timeout(1200)
def test_llm_throughput_quick_measures_on_vllm(stack_with_llm: BoostqaSettings, tmp_path: Path) -> None:
    settings = stack_with_llm
    # 2 requests per side and round at concurrency 2 (warm-up: 2 per side): the test checks the plumbing, `make bench`
    # the ratio
    python = PROJECT_ROOT / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python if python.exists() else sys.executable), "bench/llm_throughput.py", "--quick", "--out",
         str(tmp_path), "--requests", "2", "--concurrency", "2", "--base-url", settings.llm_base_url,
         "--model", settings.llm_server.served_model_name],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1100, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Event loop is closed" not in done.stderr
    (path,) = tmp_path.glob("llm_throughput-*.json")
    record = read_record(path)
    assert record.skipped is None, record.skipped
    assert len(record.samples["ratio"]) >= 3
    assert all(t > 0 for t in record.samples["engine_tokens"] + record.samples["bare_tokens"])
    (check,) = record.checks
    assert check.goal == ">= 0.95" and check.passed is not None and check.ours and check.anchor
