"""Difficulty by solve rate: k sampled solver answers graded against the refined answer; the verify policies."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.errors import ConfigError
from boostqa.lake.parquet import parquet_bytes
from boostqa.llm.fake import FakeTransport
from boostqa.synthesize.refine import RefineTask
from boostqa.synthesize.runner import Roles, Synthesizer
from boostqa.synthesize.solve import SOLVE_RATE_BANDS, SolveTask, VerifyPolicy, answer_matches, empirical_band
from boostqa.synthesize.stage import synthesize_shard
from boostqa.synthesize.strategies import default_strategies
from boostqa.synthesize.verify import DifficultyCheck
from boostqa_dev.checkout import PROJECT_ROOT
from tests.boostqa.synthesize.test_runner import client, draft, job, label, refined, tagged
from tests.conftest import MemoryStore


def test_a_solve_rate_maps_to_a_band_and_the_warehouse_uses_the_same_floors() -> None:
    assert [empirical_band(r) for r in (1.0, 0.8, 0.75, 0.5, 0.25, 0.2, 0.1, 0.0)] == [1, 1, 2, 3, 4, 4, 5, 5]
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["solve_rate_band_floors"] == [floor for floor, _ in SOLVE_RATE_BANDS[:-1]]


@pytest.mark.parametrize(("sample", "reference", "option", "match"), [
    ({"answer_option": "B", "final_answer": "x"}, "anything", "B", True),
    ({"answer_option": "C", "final_answer": "x"}, "anything", "B", False),
    ({"final_answer": "She has 3 + 4 = 7 apples.\n#### 7"}, "7 apples in all", None, True),
    ({"final_answer": "The answer is 1,200 dollars."}, "$1200", None, True),
    ({"final_answer": "So x = \\boxed{\\dfrac{1}{2}}"}, "The value is \\boxed{0.5}.", None, True),
    ({"final_answer": "The answer is 8."}, "7", None, False),
    ({"final_answer": "Photosynthesis"}, "photosynthesis", None, True),
    ({"final_answer": "3/4"}, "1/4", None, False),  # a fraction is one value, not its last number
    ({"final_answer": "x = 42"}, "The answer is \\boxed{42}.", None, True),
    ({"final_answer": "Paris"}, "The capital of France is Paris.", None, True),
    ({"final_answer": "Lyon"}, "The capital of France is Paris.", None, False),
])
def test_answers_are_graded_with_the_eval_normalizers(sample: dict[str, str], reference: str, option: str | None,
                                                      match: bool) -> None:
    assert answer_matches(sample, reference, option) is match


def test_requests_are_k_samples_with_their_own_seeds_and_cache_entries() -> None:
    requests = SolveTask(samples=3).build_requests("j1", "zh", "什么是力的单位？", ["牛顿", "焦耳", "瓦特", "帕斯卡"])
    assert [r.item_id for r in requests] == ["j1#solve1", "j1#solve2", "j1#solve3"]
    assert [r.sampling.seed for r in requests] == [1, 2, 3] and {r.sampling.temperature for r in requests} == {0.8}
    assert "Chinese" in requests[0].messages[0]["content"] and "D. " in requests[0].messages[0]["content"]
    assert requests[0].json_schema["required"] == ["final_answer", "answer_option"]
    assert SolveTask().build_requests("j2", "en", "2+2?", None)[0].json_schema["required"] == ["final_answer"]


def _synthesizer(policy: VerifyPolicy) -> Synthesizer:
    taxonomy = load_taxonomy()
    return Synthesizer(default_strategies(), taxonomy, DifficultyCheck(AnnotationTask(taxonomy)), RefineTask(),
                       verify_policy=policy, solve=SolveTask(samples=4))


def _roles(tmp_path: Path, easy_label: int = 3) -> tuple[Roles, FakeTransport]:
    """The solver answers "ok" correctly 1 time in 4 (band 4), "easy" always (band 1), "open" half the time (band
    3) with every other reply unusable."""
    counters = {key: itertools.count() for key in ("ok", "easy", "open")}

    def solve(messages: list[dict[str, str]]) -> str:
        key = tagged(messages)
        if len(messages) > 1:  # the re-ask of an unusable sample stays unusable
            return "not json"
        n = next(counters[key])
        if key == "open":
            return "not json" if n % 2 else json.dumps({"final_answer": "F = 6 N" if n == 0 else "F = 5 N"})
        right = key == "easy" or n % 4 == 0
        return json.dumps({"final_answer": "6 N", "answer_option": "A" if right else "C"})

    solver = FakeTransport(solve)
    roles = Roles(client(tmp_path, "generator", FakeTransport(lambda m: draft(tagged(m), mc=tagged(m) != "open"))),
                  client(tmp_path, "annotator", FakeTransport(lambda m: label(easy_label))),
                  client(tmp_path, "refiner", FakeTransport(
                      lambda m: refined(None if tagged(m) == "open" else "A", True))),
                  solver=client(tmp_path, "solver", solver))
    return roles, solver


def test_fewer_than_half_the_samples_graded_leaves_an_item_unrated() -> None:
    ok = SimpleNamespace(status="ok", parsed={"final_answer": "6", "answer_option": "A"}, model="m")
    bad = SimpleNamespace(status="invalid", parsed=None, model="m")
    item = {"item_id": "i", "run_id": "r", "discipline_id": "physics", "target_difficulty": 3,
            "verified_difficulty": 3, "refined_answer": "6", "refined_option": "A"}
    record = SolveTask(samples=4).record(item, [ok, bad, bad, bad])  # type: ignore[list-item]
    assert (record.graded, record.solve_rate, record.empirical_difficulty) == (1, None, None)
    assert SolveTask(samples=4).record(item, [ok, ok, bad, bad]).solve_rate == 1.0  # type: ignore[list-item]


@pytest.mark.parametrize(("policy", "kept"), [("solve_rate", ["ok", "open"]), ("both", ["ok", "open"])])
def test_a_solve_rate_policy_rejects_items_the_solver_finds_too_easy(tmp_path: Path, policy: VerifyPolicy,
                                                                     kept: list[str]) -> None:
    roles, solver = _roles(tmp_path)
    jobs = [job("ok", target=3), job("easy", target=3), job("open", strategy="multi_grade", target=2, mc=False)]
    out = _synthesizer(policy).run_shard(jobs, roles, "s1")
    assert sorted(i.item_id for i in out.items) == kept
    (reject,) = out.rejects
    assert (reject.item_id, reject.step, reject.reason) == ("easy", "solve", "solved_too_often")
    assert reject.detail.startswith("solved 4 of 4 samples: band 1, target 3")
    solves = {s.item_id: s for s in out.solves}
    assert (solves["ok"].graded, solves["ok"].solved, solves["ok"].empirical_difficulty) == (4, 1, 4)
    assert solves["easy"].solve_rate == 1.0 and solves["easy"].labelled_difficulty == 3
    # half the open item's samples are unusable (after their re-ask): graded over the usable ones only
    assert (solves["open"].samples, solves["open"].graded, solves["open"].solve_rate) == (4, 2, 0.5)
    assert solves["ok"].solver_model == "solver-model"
    # under solve_rate the solve rate verified the item, so it counts in its empirical band; under both in its label
    verified = {i.item_id: i.verified_difficulty for i in out.items}
    assert verified["ok"] == (4 if policy == "solve_rate" else 3)
    assert "solver" in {r.role for r in roles.ledger_rows()} and len(solver.calls) >= 12


def test_the_label_still_decides_under_both_but_not_under_solve_rate(tmp_path: Path) -> None:
    jobs = [job("ok", target=3)]  # labelled 2 (below its target 3), solved 1 in 4 (band 4)
    for policy, kept in (("both", []), ("solve_rate", ["ok"]), ("label", [])):
        roles, _ = _roles(tmp_path / policy, easy_label=2)
        out = _synthesizer(policy).run_shard(jobs, roles, "s1")  # type: ignore[arg-type]
        assert [i.item_id for i in out.items] == kept, policy
        assert len(out.solves) == (1 if policy == "solve_rate" else 0), policy


def test_a_shard_writes_its_solves_beside_its_items_before_its_marker(memory_store: MemoryStore,
                                                                      tmp_path: Path) -> None:
    rows = [j.model_dump() | {"job_order": n} for n, j in enumerate([job("ok", target=3), job("easy", target=3)])]
    memory_store.put_bytes("synthesis/run_id=s1/jobs.parquet", parquet_bytes(pa.Table.from_pylist(rows)))
    roles, _ = _roles(tmp_path)
    result = synthesize_shard(memory_store, "s1", 0, 8, _synthesizer("both"), roles)
    assert (result.items, result.rejects) == (1, 1)
    solves = pq.read_table(io.BytesIO(memory_store.objects["calibration/solves/run_id=s1/part-00000.parquet"]))
    assert sorted(solves["item_id"].to_pylist()) == ["easy", "ok"]
    assert "qa/run_id=s1/_SUCCESS.00000" in memory_store.objects


def test_a_solve_policy_without_a_solver_is_refused(tmp_path: Path) -> None:
    roles, _ = _roles(tmp_path)
    roles.solver = None
    with pytest.raises(ConfigError, match="needs a solve task and a solver client"):
        _synthesizer("both").run_shard([job("ok")], roles, "s1")
