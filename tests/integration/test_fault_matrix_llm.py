"""`make faults`' LLM rows at a small size: through the fault proxy to the session's vLLM server, each fault kind
ends every seed annotated or quarantined with its reason, or (401) fails fast and the resumed run ends them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.faults_kill import annotate_kill_row
from bench.faults_synthesis import synthesis_kill_row
from boostqa.settings import BoostqaSettings
from boostqa_dev.faults.llm_rows import llm_row
from boostqa_dev.faults.proxy import KINDS
from boostqa_dev.stack.seaweedfs import lake_config

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", KINDS)
def test_an_llm_fault_ends_every_seed_annotated_quarantined_or_failed_fast(
        stack_with_llm: BoostqaSettings, tmp_path: Path, kind: str) -> None:
    row = llm_row(lake_config(stack_with_llm), stack_with_llm.llm_base_url,
                  stack_with_llm.llm_server.served_model_name, kind, seeds=4, rate=0.5, work=tmp_path)
    assert row.green, row.record()
    assert row.injected > 0 and row.lost == 0 and row.duplicated == 0
    assert row.fail_fast == (kind == "http_401")




def test_a_killed_annotate_run_resumes_and_ends_every_seed_once(stack_with_llm: BoostqaSettings,
                                                                tmp_path: Path) -> None:
    row = annotate_kill_row(lake_config(stack_with_llm), stack_with_llm.llm_base_url,
                            stack_with_llm.llm_server.served_model_name, tmp_path, seeds=4)
    assert row.green, row.record()


def test_a_killed_synthesis_run_resumes_and_ends_every_job_once(stack_with_llm: BoostqaSettings,
                                                                 tmp_path: Path) -> None:
    row = synthesis_kill_row(lake_config(stack_with_llm), stack_with_llm.llm_base_url,
                             stack_with_llm.llm_server.served_model_name, tmp_path, jobs=2)
    assert row.green, row.record()
