"""The spend guard in a shard: jobs cut off at generate, verify or refine stay pending (never rejected), and the
next run finishes them replaying the calls already made."""

from __future__ import annotations

import json
import re
from pathlib import Path

from boostqa.llm.budget import SpendBudget, SpendGuard, estimate_prompt_tokens
from boostqa.llm.fake import FakeTransport
from boostqa.llm.prices import Price, PriceList
from boostqa.llm.types import LlmRequest
from boostqa.synthesize.runner import Roles
from tests.boostqa.synthesize.test_runner import client, draft, job, label, refined, synthesizer, tagged

PRICES = PriceList("p1", {}, default=Price(1.0, 1.0))


def need(request: LlmRequest) -> int:
    """The guard's upper bound for one call of ``request``."""
    return estimate_prompt_tokens(request.messages) + request.sampling.max_tokens


def job_of(messages: list[dict[str, str]]) -> str:
    return re.findall(r"\((ok\d)\)", messages[0]["content"])[0]


def test_jobs_cut_off_at_generate_and_verify_are_pending_and_the_next_run_finishes_them(tmp_path: Path) -> None:
    jobs = [job(f"ok{n}") for n in range(3)]
    synth = synthesizer()
    first_two = sum(need(synth.strategies[j.strategy].build_request(j, synth.taxonomy)) for j in jobs[:2])
    # Slow servers: the three drafts ask the guard before the first answer comes back.
    generator = FakeTransport(lambda m: draft(job_of(m)), delay_s=0.01)
    annotator = FakeTransport(lambda m: label(3))
    refiner = FakeTransport(lambda m: refined("A", True))

    def roles(guard: SpendGuard) -> Roles:
        shard_roles = Roles(client(tmp_path, "generator", generator), client(tmp_path, "annotator", annotator),
                            client(tmp_path, "refiner", refiner))
        shard_roles.attach_guard(guard)
        return shard_roles

    out = synth.run_shard(jobs, roles(SpendGuard(SpendBudget(run_tokens=first_two), PRICES, label="s1")), "s1")
    assert (out.items, out.rejects, out.pending) == ([], [], ["ok0", "ok1", "ok2"])
    assert out.budget_note is not None and "run tokens cap" in out.budget_note
    assert len(generator.calls) == 2 and annotator.calls == [] and refiner.calls == []

    # The next run (a fresh budget): the two drafts replay from the cache, only ok2's draft is a new call.
    guard = SpendGuard(SpendBudget(run_tokens=10**6), PRICES)
    again = synth.run_shard(jobs, roles(guard), "s2")
    assert sorted(i.item_id for i in again.items) == ["ok0", "ok1", "ok2"] and not again.pending
    assert len(generator.calls) == 3 and again.budget_note is None
    assert guard.calls == 1 + 3 + 3  # one draft, three checks, three refinements: nothing billed twice


def test_jobs_cut_off_at_refine_are_pending_while_earlier_rejects_stay_rejects(tmp_path: Path) -> None:
    generator = FakeTransport(lambda m: "not json" if tagged(m) == "bad" else draft(tagged(m)))
    annotator = FakeTransport(lambda m: label(1 if tagged(m) == "easy" else 3))
    refiner = FakeTransport(lambda m: refined("A", True))
    roles = Roles(client(tmp_path, "generator", generator), client(tmp_path, "annotator", annotator),
                  client(tmp_path, "refiner", refiner))
    roles.refiner.guard = SpendGuard(SpendBudget(run_usd=0.0), PRICES, label="refiner")  # no money for refining
    out = synthesizer().run_shard([job("ok"), job("bad"), job("easy")], roles, "s1")
    assert out.items == [] and out.pending == ["ok"] and refiner.calls == []
    assert {(r.item_id, r.reason) for r in out.rejects} == {("bad", "invalid_output"), ("easy", "difficulty_degraded")}
    assert out.budget_note is not None and "run USD cap" in out.budget_note


def test_a_job_whose_second_opinion_is_cut_off_is_pending(tmp_path: Path) -> None:
    synth = synthesizer()
    flip = job("flip")
    draft_model = synth.strategies[flip.strategy].output_model(flip).model_validate(json.loads(draft("flip")))
    first = synth.refine.build_request("flip", "en", draft_model)
    roles = Roles(client(tmp_path, "generator", FakeTransport(lambda m: draft("flip"))),
                  client(tmp_path, "annotator", FakeTransport(lambda m: label(3))),
                  client(tmp_path, "refiner", FakeTransport(lambda m: refined("B", False))))
    roles.refiner.guard = SpendGuard(SpendBudget(run_tokens=need(first)), PRICES)  # the first opinion only
    out = synth.run_shard([flip], roles, "s1")
    assert (out.items, out.rejects, out.pending) == ([], [], ["flip"])
    assert roles.refiner.guard.calls == 1
