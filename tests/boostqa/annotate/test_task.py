from __future__ import annotations

import asyncio
import json
from pathlib import Path

from boostqa.annotate.task import AnnotationTask, SeedToAnnotate
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.llm.transport import ItemRejected, TransportError
from boostqa.llm.types import LlmEndpoint, TransportResult
from boostqa.schemas import AnnotationRecord, LlmQuarantineRecord

SEED = SeedToAnnotate(seed_id="seed-1", question="下列哪一种物质在常温常压下是液体？", options=["氧气", "水银"],
                      language="zh")


def _annotate(tmp_path: Path, *replies: str | TransportError | TransportResult
              ) -> tuple[AnnotationRecord | LlmQuarantineRecord, FakeTransport]:
    task = AnnotationTask(load_taxonomy())
    queue = iter(replies)
    transport = FakeTransport(lambda messages: next(queue))
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="tiny", max_reasks=1)
    client = LlmClient(endpoint, transport, ResponseCache(tmp_path / "c.sqlite"), run_id="r", backoff_s=0.001)
    outcome = asyncio.run(client.generate(task.build_request(SEED), task.output_model))
    return task.parse(outcome, run_id="r"), transport


def test_taxonomy_matches_the_dbt_seeds() -> None:
    taxonomy = load_taxonomy()
    assert len(taxonomy.discipline_ids) == 50
    assert taxonomy.category_of["physics"] == "stem"
    assert taxonomy.grade_band_of == {1: "elementary", 2: "middle_school", 3: "high_school", 4: "undergraduate",
                                      5: "graduate"}


def test_prompt_lists_the_taxonomy_and_the_question() -> None:
    request = AnnotationTask(load_taxonomy()).build_request(SEED)
    prompt = request.messages[0]["content"]
    assert "traditional_chinese_medicine" in prompt and "3 = high_school" in prompt
    assert SEED.question in prompt and "A. 氧气\nB. 水银" in prompt and "(Chinese)" in prompt
    assert request.prompt_version == "annotate_v3" and request.item_id == "seed-1"
    branches = request.json_schema["anyOf"]
    assert [b["properties"]["discipline"]["enum"][0] for b in branches] == ["mathematics"] * 5
    # Each branch pins a difficulty to its band: guided decoding cannot emit a contradiction.
    assert {(b["properties"]["difficulty"]["const"], b["properties"]["grade_band"]["const"]) for b in branches} == set(
        load_taxonomy().grade_band_of.items())


def test_rationale_pattern_rejects_quotes_newlines_and_runaways() -> None:
    import re

    pattern = AnnotationTask(load_taxonomy()).json_schema["anyOf"][0]["properties"]["rationale"]["pattern"]
    assert re.fullmatch(pattern, "Mercury is a liquid metal at room temperature.")
    for bad in ("", "x" * 81, 'say "no"', "two\nlines", "back\\slash"):
        assert not re.fullmatch(pattern, bad), bad


def test_valid_labels_become_an_annotation_with_lineage(tmp_path: Path) -> None:
    reply = {"discipline": "chemistry", "difficulty": 1, "grade_band": "elementary", "rationale": "Mercury is liquid."}
    record, _ = _annotate(tmp_path, json.dumps(reply))
    assert isinstance(record, AnnotationRecord)
    assert (record.item_id, record.category, record.discipline_id, record.difficulty) == ("seed-1", "stem",
                                                                                         "chemistry", 1)
    assert (record.annotator_model, record.prompt_version, record.taxonomy_version) == ("tiny", "annotate_v3", "v1")
    assert record.request_id == "fake-1"


def test_a_label_outside_the_taxonomy_is_quarantined_never_guessed(tmp_path: Path) -> None:
    bad = {"discipline": "alchemy", "difficulty": 1, "grade_band": "elementary", "rationale": "x"}
    record, transport = _annotate(tmp_path, json.dumps(bad), json.dumps(bad))
    assert isinstance(record, LlmQuarantineRecord)
    assert record.reason == "invalid_output" and "discipline" in record.detail
    assert json.loads(record.raw_output)["discipline"] == "alchemy"
    assert len(transport.calls) == 2  # one re-ask, then quarantine


def test_a_seed_the_server_refuses_or_a_truncated_label_is_quarantined_with_its_own_reason(tmp_path: Path) -> None:
    refused, _ = _annotate(tmp_path, ItemRejected("HTTP 400: maximum context length", 400, "too long"))
    assert isinstance(refused, LlmQuarantineRecord)
    assert (refused.reason, refused.raw_output) == ("llm_rejected", "too long") and "HTTP 400" in refused.detail
    cut = TransportResult(text='{"discipline": "phys', model="tiny", request_id="x", finish_reason="length")
    truncated, _ = _annotate(tmp_path, cut)
    assert isinstance(truncated, LlmQuarantineRecord)
    assert truncated.reason == "truncated" and truncated.raw_output == '{"discipline": "phys'


def test_a_band_that_contradicts_the_difficulty_is_re_asked(tmp_path: Path) -> None:
    wrong = {"discipline": "chemistry", "difficulty": 1, "grade_band": "graduate", "rationale": "x"}
    right = {**wrong, "grade_band": "elementary"}
    record, transport = _annotate(tmp_path, json.dumps(wrong), json.dumps(right))
    assert isinstance(record, AnnotationRecord) and record.grade_band == "elementary"
    assert "does not match difficulty" in transport.calls[1][-1]["content"]
