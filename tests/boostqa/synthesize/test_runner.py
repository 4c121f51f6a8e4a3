"""Synthesis of a shard through a scripted transport: every job ends as an item or a reject with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.llm.transport import ItemRejected
from boostqa.llm.types import LlmEndpoint, TransportResult
from boostqa.synthesize.records import SynthesisJob
from boostqa.synthesize.refine import DisagreementPolicy, RefineTask
from boostqa.synthesize.runner import Roles, Synthesizer
from boostqa.synthesize.strategies import default_strategies
from boostqa.synthesize.verify import DifficultyCheck
from boostqa.vocabulary import Role


def job(job_id: str, strategy: str = "high_difficulty", target: int = 3, mc: bool = True) -> SynthesisJob:
    return SynthesisJob(job_id=job_id, plan_id="p", strategy=strategy, replica=0, seed_id=f"seed-{job_id}",  # type: ignore[arg-type]
                        discipline_id="physics", category_id="stem", language="en",
                        seed_question=f"What is the unit of force? ({job_id})",
                        seed_options=["newton", "joule", "watt", "pascal"] if mc else None, seed_answer="A",
                        seed_difficulty=target - 1, target_difficulty=target,
                        target_grade_band=load_taxonomy().grade_band_of[target])


def draft(job_id: str, mc: bool = True) -> str:
    body = {"question": f"A 2 kg mass accelerates at 3 m/s^2; what net force acts on it? [{job_id}]",
            "draft_answer": "F = ma = 6 N"}
    if mc:
        body |= {"options": ["6 N", "5 N", "1.5 N", "9 N"], "answer_option": "A"}
    return json.dumps(body)


def label(difficulty: int) -> str:
    bands = load_taxonomy().grade_band_of
    return json.dumps({"discipline": "physics", "difficulty": difficulty, "grade_band": bands[difficulty],
                       "rationale": "Newton's second law."})


def refined(option: str | None, correct: bool) -> str:
    body: dict[str, object] = {"final_answer": "F = m a = 2 kg x 3 m/s^2 = 6 N.", "draft_correct": correct}
    if option is not None:
        body["answer_option"] = option
    return json.dumps(body)


def client(tmp_path: Path, role: Role, transport: FakeTransport) -> LlmClient:
    endpoint = LlmEndpoint(role=role, base_url="http://fake/v1", model=f"{role}-model", max_attempts=2, max_reasks=1)
    return LlmClient(endpoint, transport, ResponseCache(tmp_path / f"{role}.sqlite"), run_id="s1", backoff_s=0.001)


def synthesizer(policy: DisagreementPolicy = "second_sample", tolerance: int = 0) -> Synthesizer:
    taxonomy = load_taxonomy()
    return Synthesizer(default_strategies(), taxonomy, DifficultyCheck(AnnotationTask(taxonomy), tolerance),
                       RefineTask(), policy)


def tagged(messages: list[dict[str, str]]) -> str:
    """The job id a prompt is about (the fixtures put it in brackets or parentheses)."""
    text = messages[0]["content"]
    for key in ("ok", "bad", "easy", "flip", "open", "long", "cut"):
        if f"[{key}]" in text or f"({key})" in text:
            return key
    raise AssertionError(text)


def test_a_shard_keeps_good_items_and_rejects_the_rest_with_reasons(tmp_path: Path) -> None:
    generator = FakeTransport(lambda m: "not json" if tagged(m) == "bad" else
                              f"<think>plan the question</think>{draft(tagged(m), mc=tagged(m) != 'open')}")
    annotator = FakeTransport(lambda m: label(1 if tagged(m) == "easy" else 3))
    # "flip": the refiner picks B and says the draft was wrong; its second, sampled opinion agrees with B.
    refiner = FakeTransport(lambda m: refined("B", False) if tagged(m) == "flip" else
                            refined(None if tagged(m) == "open" else "A", True))
    roles = Roles(client(tmp_path, "generator", generator), client(tmp_path, "annotator", annotator),
                  client(tmp_path, "refiner", refiner))
    jobs = [job("ok"), job("bad"), job("easy"), job("flip"), job("open", strategy="multi_grade", mc=False)]
    out = synthesizer().run_shard(jobs, roles, "s1")

    assert sorted(i.item_id for i in out.items) == ["flip", "ok", "open"]
    assert {(r.item_id, r.step, r.reason) for r in out.rejects} == {
        ("bad", "generate", "invalid_output"), ("easy", "verify", "difficulty_degraded")}
    items = {i.item_id: i for i in out.items}
    assert items["ok"].reasoning == "plan the question" and "<think>" not in items["ok"].question
    assert (items["ok"].draft_option, items["ok"].refined_option, items["ok"].refine_decision) == ("A", "A", "agreed")
    assert (items["flip"].refined_option, items["flip"].refine_decision) == ("B", "confirmed_by_second_sample")
    assert items["open"].options is None and items["open"].refined_option is None
    assert items["ok"].generator_model == "generator-model" and items["ok"].verified_difficulty == 3
    assert len(generator.calls) == 6  # five jobs + one re-ask of the invalid draft
    assert len(refiner.calls) == 4  # three survivors + the second opinion on "flip"
    assert {r.role for r in roles.ledger_rows()} == {"generator", "annotator", "refiner"}


def test_a_refused_request_or_a_truncated_reply_rejects_its_job_at_its_step_and_the_shard_goes_on(
        tmp_path: Path) -> None:
    def generate(messages: list[dict[str, str]]) -> str | ItemRejected:  # "long": over the server's context
        if tagged(messages) == "long":
            return ItemRejected("HTTP 400: maximum context length exceeded", 400, '{"error": "context"}')
        return draft(tagged(messages))

    def refine(messages: list[dict[str, str]]) -> str | TransportResult:  # "cut": the refiner hits max_tokens
        if tagged(messages) == "cut":
            return TransportResult(text='{"final_answer": "F = m', model="refiner-model", request_id="cut-1",
                                   completion_tokens=512, finish_reason="length")
        return refined("A", True)

    roles = Roles(client(tmp_path, "generator", FakeTransport(generate)),
                  client(tmp_path, "annotator", FakeTransport(lambda m: label(3))),
                  client(tmp_path, "refiner", FakeTransport(refine)))
    out = synthesizer().run_shard([job("ok"), job("long"), job("cut")], roles, "s1")

    assert [i.item_id for i in out.items] == ["ok"]
    rejects = {r.item_id: r for r in out.rejects}
    assert {(r.item_id, r.step, r.reason) for r in out.rejects} == {
        ("long", "generate", "llm_rejected"), ("cut", "refine", "truncated")}
    assert "HTTP 400" in rejects["long"].detail and rejects["long"].raw_output == '{"error": "context"}'
    assert "max_tokens" in rejects["cut"].detail and rejects["cut"].request_id == "cut-1"
    assert [r.status for r in roles.ledger_rows() if r.item_id == "cut" and r.role == "refiner"] == ["truncated"]


@pytest.mark.parametrize(("policy", "kept", "reason"), [
    ("keep_refined", True, None), ("drop", False, "refine_disagreement")])
def test_disagreement_policy(tmp_path: Path, policy: DisagreementPolicy, kept: bool, reason: str | None) -> None:
    roles = Roles(client(tmp_path, "generator", FakeTransport(lambda m: draft("flip"))),
                  client(tmp_path, "annotator", FakeTransport(lambda m: label(3))),
                  client(tmp_path, "refiner", FakeTransport(lambda m: refined("C", False))))
    out = synthesizer(policy).run_shard([job("flip")], roles, "s1")
    assert bool(out.items) is kept
    if kept:
        assert out.items[0].refined_option == "C" and out.items[0].refine_decision == "kept_refined"
        assert out.items[0].answer_agreement is False
    else:
        assert [r.reason for r in out.rejects] == [reason]


def test_an_unconfirmed_second_opinion_rejects_the_item(tmp_path: Path) -> None:
    answers = iter([refined("C", False), refined("D", False)])
    roles = Roles(client(tmp_path, "generator", FakeTransport(lambda m: draft("flip"))),
                  client(tmp_path, "annotator", FakeTransport(lambda m: label(3))),
                  client(tmp_path, "refiner", FakeTransport(lambda m: next(answers))))
    out = synthesizer("second_sample").run_shard([job("flip")], roles, "s1")
    assert not out.items and [r.reason for r in out.rejects] == ["refine_unresolved"]


def test_tolerance_lets_a_question_one_level_short_pass(tmp_path: Path) -> None:
    roles = Roles(client(tmp_path, "generator", FakeTransport(lambda m: draft("ok"))),
                  client(tmp_path, "annotator", FakeTransport(lambda m: label(2))),
                  client(tmp_path, "refiner", FakeTransport(lambda m: refined("A", True))))
    assert synthesizer(tolerance=1).run_shard([job("ok", target=3)], roles, "s1").items


def test_stage_snapshots_jobs_runs_shards_once_and_resumes(memory_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from boostqa.lake.parquet import parquet_bytes
    from boostqa.synthesize.stage import shard_indexes, snapshot_jobs, synthesize_shard

    jobs = [job(f"ok{n}") for n in range(5)]
    rows = [j.model_dump() | {"job_order": 5 - n} for n, j in enumerate(jobs)]
    memory_store.put_bytes("plans/plan_id=p/synthesis_jobs.parquet", parquet_bytes(pa.Table.from_pylist(rows)))
    generator = FakeTransport(lambda m: draft("ok"))
    roles = Roles(client(tmp_path, "generator", generator),
                  client(tmp_path, "annotator", FakeTransport(lambda m: label(3))),
                  client(tmp_path, "refiner", FakeTransport(lambda m: refined("A", True))))

    assert snapshot_jobs(memory_store, "p", "s1", limit=4) == 4
    # A new plan export does not change what a started run works on.
    memory_store.put_bytes("plans/plan_id=p/synthesis_jobs.parquet", parquet_bytes(pa.Table.from_pylist(rows[:1])))
    assert snapshot_jobs(memory_store, "p", "s1", limit=4) == 4
    results = [synthesize_shard(memory_store, "s1", k, 3, synthesizer(), roles) for k in shard_indexes(4, 3)]
    assert [(r.jobs, r.items, r.skipped) for r in results] == [(3, 3, False), (1, 1, False)]
    items = pq.read_table(io.BytesIO(memory_store.objects["qa/run_id=s1/part-00000.parquet"])).to_pylist()
    assert [i["item_id"] for i in items] == ["ok4", "ok3", "ok2"]  # job_order, not file order
    assert all(i["prompt_tokens"] > 0 and i["completion_tokens"] > 0 for i in items)  # lineage carries tokens
    ledger = pq.read_table(io.BytesIO(memory_store.objects["llm/ledger/stage=synthesize/run_id=s1/part-00001.parquet"]))
    assert sorted(set(ledger["role"].to_pylist())) == ["annotator", "generator", "refiner"]
    calls = len(generator.calls)
    again = synthesize_shard(memory_store, "s1", 0, 3, synthesizer(), roles)
    assert again.skipped and len(generator.calls) == calls

    # A second run on the same plan takes the plan's jobs no run has finished, never the first run's again.
    memory_store.put_bytes("plans/plan_id=p/synthesis_jobs.parquet", parquet_bytes(pa.Table.from_pylist(rows)))
    assert snapshot_jobs(memory_store, "p", "s2", limit=4) == 1
    second = pq.read_table(io.BytesIO(memory_store.objects["synthesis/run_id=s2/jobs.parquet"]))
    assert second["job_id"].to_pylist() == ["ok0"]


def test_a_shard_killed_mid_way_resumes_without_repeating_finished_calls(memory_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow as pa

    from boostqa.lake.parquet import parquet_bytes
    from boostqa.llm.client import LlmUnavailable
    from boostqa.llm.transport import TransientError
    from boostqa.synthesize.stage import snapshot_jobs, synthesize_shard

    jobs = [job(f"ok{n}") for n in range(4)]
    rows = [j.model_dump() | {"job_order": n} for n, j in enumerate(jobs)]
    memory_store.put_bytes("plans/plan_id=p/synthesis_jobs.parquet", parquet_bytes(pa.Table.from_pylist(rows)))
    snapshot_jobs(memory_store, "p", "s1")
    import re

    # Each job's draft names its job, so the four refinements are four distinct requests.
    generator = FakeTransport(lambda m: draft(re.findall(r"\((ok\d)\)", m[0]["content"])[0]))
    annotator = FakeTransport(lambda m: label(3))
    refiner_up = {"value": False}
    refiner = FakeTransport(lambda m: refined("A", True) if refiner_up["value"] else TransientError("HTTP 503"))

    def roles() -> Roles:  # a fresh worker each attempt, sharing the persistent cache folder
        return Roles(client(tmp_path, "generator", generator), client(tmp_path, "annotator", annotator),
                     client(tmp_path, "refiner", refiner))

    with pytest.raises(LlmUnavailable):  # the refiner dies after drafts and checks were made
        synthesize_shard(memory_store, "s1", 0, 4, synthesizer(), roles())
    assert not memory_store.list_keys("qa/run_id=s1/")  # nothing half-written: no marker, no part
    drafted, checked = len(generator.calls), len(annotator.calls)

    refiner_up["value"] = True
    result = synthesize_shard(memory_store, "s1", 0, 4, synthesizer(), roles())
    assert (result.items, result.rejects) == (4, 0)
    assert (len(generator.calls), len(annotator.calls)) == (drafted, checked)  # replayed from the cache
    assert result.llm_calls == 4  # only the refinements reached a server
