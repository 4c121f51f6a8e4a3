"""A fault row's verdict: green only when nothing is lost or duplicated and every job ends the way its fault
promises; the proxy's picks are reproducible and always inject at least once."""

from __future__ import annotations

import pytest

from boostqa_dev.faults.proxy import FaultPlan
from boostqa_dev.faults.rows import FaultRow, outcome_counts


def test_outcome_counts_find_lost_duplicated_and_foreign_jobs() -> None:
    done, reasons, lost, duplicated = outcome_counts(
        ["a", "b", "c", "d"], completed=["a", "b"], quarantined=[("b", "x"), ("c", "y"), ("zz", "y")])
    assert (done, reasons, lost, duplicated) == (2, {"x": 1, "y": 1}, 1, 2)  # d lost; b twice, zz not a job


def test_a_row_is_green_only_when_every_job_ends_as_its_fault_promises() -> None:
    row = FaultRow(fault="f", injected=2, jobs=3, completed=2, quarantined={"truncated": 1},
                   expect_reasons=["truncated"])
    assert row.green
    assert not row.model_copy(update={"quarantined": {"invalid_output": 1}}).green  # an unexpected reason
    assert not row.model_copy(update={"completed": 1}).green  # a job without an end
    assert not row.model_copy(update={"lost": 1}).green
    assert not row.model_copy(update={"injected": 0}).green  # nothing injected proves nothing
    assert not row.model_copy(update={"checks": {"waited Retry-After": False}}).green
    assert not row.model_copy(update={"fail_fast": True}).green  # a fault that must not stop the run did


def test_a_run_permanent_fault_must_fail_fast_with_a_message() -> None:
    row = FaultRow(fault="401", injected=1, jobs=4, expect_fail_fast=True)
    assert not row.green
    assert not row.model_copy(update={"fail_fast": True}).green  # no message for the operator
    assert row.model_copy(update={"fail_fast": True, "message": "check boostqa_llm_annotator"}).green
    assert row.record()["verdict"] == "red"


def test_fault_plans_pick_the_same_requests_at_their_rate_and_refuse_unknown_kinds() -> None:
    plan = FaultPlan(kind="http_500", rate=0.3, seed=7)
    bodies = [f"request {i}".encode() for i in range(2000)]
    picked = [plan.picks(b) for b in bodies]
    assert picked == [FaultPlan(kind="http_500", rate=0.3, seed=7).picks(b) for b in bodies]
    assert 0.25 < sum(picked) / len(bodies) < 0.35
    assert picked != [FaultPlan(kind="http_500", rate=0.3, seed=8).picks(b) for b in bodies]
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultPlan(kind="http_418", rate=0.1)
