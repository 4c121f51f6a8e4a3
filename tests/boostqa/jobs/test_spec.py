"""A stage job's spec: one quoted argument whatever the params hold, a stable submission id, the result line."""

from __future__ import annotations

import shlex

import pytest
from pydantic import ValidationError

from boostqa.jobs.spec import JobSpec, LakeLocation, parse_result, result_line
from boostqa.lake.store import LakeConfig

LAKE = LakeLocation(endpoint_url="http://127.0.0.1:8333", bucket="boostqa")


def test_the_entrypoint_carries_the_spec_as_one_argument_even_with_shell_text_in_params() -> None:
    spec = JobSpec(stage="qc", run_id="synthesize_1", lake=LAKE, params={"note": "'; rm -rf / #", "bands": 32})
    words = shlex.split(spec.entrypoint("/venv/bin/python"))
    assert words[:3] == ["/venv/bin/python", "-m", "boostqa.jobs"] and len(words) == 4
    assert JobSpec.model_validate_json(words[3]) == spec


def test_the_submission_id_is_stable_per_attempt_and_safe_for_ray() -> None:
    spec = JobSpec(stage="qc", run_id="synthesize_2026-12-07T01:02:03+00:00", lake=LAKE)
    first = spec.submission_id("abc-try1")
    assert first == spec.submission_id("abc-try1") != spec.submission_id("abc-try2")
    assert set(first) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def test_the_location_travels_without_credentials() -> None:
    config = LakeConfig(endpoint_url="http://s3", access_key="key", secret_key="secret", bucket="b")  # type: ignore[arg-type]
    location = LakeLocation.of(config)
    assert "secret" not in location.model_dump_json() and "key" not in location.model_dump_json()
    assert location.with_credentials("key", "secret") == config


def test_unknown_stages_and_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        JobSpec.model_validate({"stage": "synthesize", "run_id": "r", "lake": LAKE.model_dump()})
    with pytest.raises(ValidationError):
        JobSpec.model_validate({"stage": "qc", "run_id": "r", "lake": LAKE.model_dump(), "extra": 1})


def test_the_last_result_line_of_a_log_is_the_result() -> None:
    logs = "\n".join(["starting", result_line({"kept": 1}), "noise", result_line({"kept": 2}), "bye"])
    assert parse_result(logs) == {"kept": 2}
    assert parse_result("no result here\n") is None
