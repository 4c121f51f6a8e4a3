"""Synthesize one shard of jobs: generate drafts -> verify difficulty -> refine answers [-> solve] -> items, rejects.

The solve step (k sampled solver answers per item, graded against the refined answer) runs when the verify policy
is ``solve_rate`` or ``both`` (boostqa/synthesize/solve.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from boostqa.annotate.taxonomy import Taxonomy
from boostqa.errors import ConfigError
from boostqa.llm.budget import SpendGuard
from boostqa.llm.client import LlmClient
from boostqa.llm.progress import Progress
from boostqa.llm.types import LedgerRow, LlmOutcome
from boostqa.synthesize.records import SynthesisJob, SynthesisReject, SynthesizedItem
from boostqa.synthesize.refine import DisagreementPolicy, RefineTask, answers_agree
from boostqa.synthesize.solve import SolveRecord, SolveTask, VerifyPolicy
from boostqa.synthesize.strategies import ChoiceDraft, OpenDraft, Strategy
from boostqa.synthesize.verify import DifficultyCheck
from boostqa.vocabulary import RefineDecision, RejectReason

log = logging.getLogger(__name__)


@dataclass
class Roles:
    """The role clients a shard uses (their ledgers are collected per shard); the solver only for solve rates."""

    generator: LlmClient
    annotator: LlmClient
    refiner: LlmClient
    solver: LlmClient | None = None

    @property
    def clients(self) -> list[LlmClient]:
        """Every role client of the shard."""
        return [c for c in (self.generator, self.annotator, self.refiner, self.solver) if c is not None]

    def ledger_rows(self) -> list[LedgerRow]:
        """Every model turn of the shard, all roles."""
        return [row for client in self.clients for row in client.ledger.rows]

    def attach_guard(self, guard: SpendGuard | None) -> None:
        """Put every role under one spend guard (the run's caps span every role); None removes it."""
        for client in self.clients:
            client.guard = guard

    @property
    def guard_note(self) -> str | None:
        """Why the spend guard stopped this shard's calls, or None."""
        guards = {id(c.guard): c.guard for c in self.clients if c.guard}
        return next((g.exhausted for g in guards.values() if g.exhausted), None)


@dataclass
class ShardOutput:
    """What one shard produced: items, rejects, and the jobs the spend guard left pending (job order).

    A pending job is neither an item nor a reject: its next call was refused by the guard (at generate, verify
    or refine). It is for the next run; the calls it already made are in the response cache and replay free.
    """

    items: list[SynthesizedItem] = field(default_factory=list)
    rejects: list[SynthesisReject] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    budget_note: str | None = None
    solves: list[SolveRecord] = field(default_factory=list)


@dataclass
class _Survivor:
    job: SynthesisJob
    draft: OpenDraft
    generated: LlmOutcome
    verified: LlmOutcome | None = None
    difficulty: int | None = None


@dataclass(frozen=True)
class Synthesizer:
    """The steps of a shard, configured once per run."""

    strategies: dict[str, Strategy]
    taxonomy: Taxonomy
    check: DifficultyCheck
    refine: RefineTask
    policy: DisagreementPolicy = "second_sample"
    verify_policy: VerifyPolicy = "label"
    solve: SolveTask | None = None  # needed unless verify_policy is label

    def run_shard(self, jobs: list[SynthesisJob], roles: Roles, run_id: str, label: str = "synthesize"
                  ) -> ShardOutput:
        """All jobs of one shard through the three steps.

        Every job ends as an item, a reject, or (when a spend guard refused its next call) pending.

        Progress (done/total, rate, ETA) is logged per step as ``<label> <step>``.
        """
        if self.verify_policy != "label" and (self.solve is None or roles.solver is None):
            raise ConfigError(f"verify policy {self.verify_policy!r} needs a solve task and a solver client (the "
                              "boostqa_llm_solver connection)")
        out = ShardOutput()
        survivors = self._generate(jobs, roles.generator, run_id, out, Progress(f"{label} generate", len(jobs)))
        survivors = self._verify(survivors, roles.annotator, run_id, out,
                                 Progress(f"{label} verify", len(survivors)))
        self._refine(survivors, roles.refiner, run_id, out, Progress(f"{label} refine", len(survivors)))
        if self.solve is not None and roles.solver is not None and self.verify_policy != "label":
            self._solve(self.solve, roles.solver, {j.job_id: j for j in jobs}, run_id, out,
                        Progress(f"{label} solve", len(out.items) * self.solve.samples))
        if out.pending:
            waiting = set(out.pending)
            out.pending = [job.job_id for job in jobs if job.job_id in waiting]
            out.budget_note = roles.guard_note
            log.warning("%s: %d of %d jobs left pending by the spend guard: %s", label, len(out.pending), len(jobs),
                        out.budget_note)
        return out

    def _generate(self, jobs: list[SynthesisJob], client: LlmClient, run_id: str, out: ShardOutput,
                  progress: Progress) -> list[_Survivor]:
        strategies = [self.strategies[job.strategy] for job in jobs]
        requests = [s.build_request(job, self.taxonomy) for s, job in zip(strategies, jobs, strict=True)]
        schemas = [s.output_model(job) for s, job in zip(strategies, jobs, strict=True)]
        outcomes = asyncio.run(client.run_batch_within_budget(requests, schemas, on_done=progress.advance))
        survivors = []
        for job, schema, outcome in zip(jobs, schemas, outcomes, strict=True):
            if outcome is None:
                out.pending.append(job.job_id)
            elif outcome.status == "ok" and outcome.parsed is not None:
                survivors.append(_Survivor(job, schema.model_validate(outcome.parsed), outcome))
            else:
                out.rejects.append(_reject(job, run_id, "generate", "invalid_output", outcome))
        return survivors

    def _verify(self, survivors: list[_Survivor], client: LlmClient, run_id: str, out: ShardOutput,
                progress: Progress) -> list[_Survivor]:
        requests = [self.check.build_request(s.job.job_id, s.job.language, s.draft) for s in survivors]
        outcomes = asyncio.run(client.run_batch_within_budget(requests, self.check.task.output_model,
                                                              on_done=progress.advance))
        kept = []
        for survivor, outcome in zip(survivors, outcomes, strict=True):
            if outcome is None:
                out.pending.append(survivor.job.job_id)
                continue
            survivor.verified = outcome
            if outcome.status != "ok" or outcome.parsed is None:
                out.rejects.append(_reject(survivor.job, run_id, "verify", "verify_invalid", outcome))
                continue
            survivor.difficulty = int(outcome.parsed["difficulty"])
            # under the solve_rate policy the label is recorded (and calibrated) but the solve rate decides
            if self.verify_policy == "solve_rate" or self.check.reached(survivor.job.target_difficulty,
                                                                         survivor.difficulty):
                kept.append(survivor)
            else:
                out.rejects.append(_reject(survivor.job, run_id, "verify", "difficulty_degraded", outcome,
                                           survivor.difficulty, f"annotated {survivor.difficulty}, target "
                                           f"{survivor.job.target_difficulty}, tolerance {self.check.tolerance}"))
        return kept

    def _refine(self, survivors: list[_Survivor], client: LlmClient, run_id: str, out: ShardOutput,
                progress: Progress) -> None:
        requests = [self.refine.build_request(s.job.job_id, s.job.language, s.draft) for s in survivors]
        schemas = [self.refine.output_model(s.draft) for s in survivors]
        firsts = asyncio.run(client.run_batch_within_budget(requests, schemas, on_done=progress.advance))
        second_needed = [i for i, (s, o) in enumerate(zip(survivors, firsts, strict=True))
                         if o is not None and o.status == "ok" and o.parsed is not None
                         and not RefineTask.draft_agrees(s.draft, o.parsed) and self.policy == "second_sample"]
        seconds = dict(zip(second_needed, asyncio.run(client.run_batch_within_budget(
            [self.refine.build_request(survivors[i].job.job_id, survivors[i].job.language, survivors[i].draft,
                                       second_opinion=True) for i in second_needed],
            [schemas[i] for i in second_needed])), strict=True))
        for index, (survivor, first) in enumerate(zip(survivors, firsts, strict=True)):
            job = survivor.job
            if first is None or (index in seconds and seconds[index] is None):
                out.pending.append(job.job_id)
                continue
            if first.status != "ok" or first.parsed is None:
                out.rejects.append(_reject(job, run_id, "refine", "refine_invalid", first, survivor.difficulty))
                continue
            agreed = RefineTask.draft_agrees(survivor.draft, first.parsed)
            decision: RefineDecision = "agreed"
            if not agreed and self.policy == "drop":
                out.rejects.append(_reject(job, run_id, "refine", "refine_disagreement", first, survivor.difficulty,
                                           "draft and refined answers disagree (policy: drop)"))
                continue
            if not agreed and self.policy == "second_sample":
                second = seconds[index]
                assert second is not None  # a cut-off second opinion left the job pending above
                if second.status != "ok" or second.parsed is None or not answers_agree(first.parsed, second.parsed):
                    out.rejects.append(_reject(job, run_id, "refine", "refine_unresolved", second,
                                               survivor.difficulty, "a second refiner sample did not confirm"))
                    continue
                decision = "confirmed_by_second_sample"
            elif not agreed:
                decision = "kept_refined"
            out.items.append(self._item(survivor, first, run_id, agreed, decision))

    def _solve(self, task: SolveTask, client: LlmClient, jobs: dict[str, SynthesisJob], run_id: str,
               out: ShardOutput, progress: Progress) -> None:
        """Sample ``task.samples`` solver answers per item; record the solve rates; reject items solved too often."""
        requests, schemas = [], []
        for item in out.items:
            requests += task.build_requests(item.item_id, item.language, item.question, item.options)
            schemas += [task.output_model(item.options is not None)] * task.samples
        outcomes = asyncio.run(client.run_batch_within_budget(requests, schemas, on_done=progress.advance))
        kept = []
        for index, item in enumerate(out.items):
            samples = outcomes[index * task.samples:(index + 1) * task.samples]
            if any(o is None for o in samples):
                out.pending.append(item.item_id)
                continue
            graded = [o for o in samples if o is not None]
            record = task.record(item.model_dump(), graded)
            out.solves.append(record)
            reached = (record.empirical_difficulty is not None
                       and self.check.reached(item.target_difficulty, record.empirical_difficulty))
            if reached:
                # under solve_rate the solve rate verified the item: it counts (QC keep order, the plan's buckets)
                # in its empirical band, not in the label's that the policy ignored
                kept.append(item if self.verify_policy == "both" else
                            item.model_copy(update={"verified_difficulty": record.empirical_difficulty}))
                continue
            rated = record.solve_rate is not None
            reason: RejectReason = "solved_too_often" if rated else "solve_invalid"
            detail = (f"solved {record.solved} of {record.graded} samples: band {record.empirical_difficulty}, "
                      f"target {item.target_difficulty}, tolerance {self.check.tolerance}" if rated
                      else f"{record.graded} of {record.samples} solver samples usable: fewer than half")
            out.rejects.append(_reject(jobs[item.item_id], run_id, "solve", reason, graded[0],
                                       item.verified_difficulty, detail))
        out.items = kept

    def _item(self, survivor: _Survivor, refined: LlmOutcome, run_id: str, agreed: bool, decision: RefineDecision
              ) -> SynthesizedItem:
        job, draft, generated = survivor.job, survivor.draft, survivor.generated
        assert refined.parsed is not None and survivor.verified is not None and survivor.difficulty is not None
        strategy = self.strategies[job.strategy]
        choice = draft if isinstance(draft, ChoiceDraft) else None
        return SynthesizedItem(
            item_id=job.job_id, run_id=run_id, plan_id=job.plan_id, strategy=job.strategy, seed_id=job.seed_id,
            discipline_id=job.discipline_id, category_id=job.category_id, language=job.language,
            target_difficulty=job.target_difficulty, verified_difficulty=survivor.difficulty,
            question=draft.question, options=choice.options if choice else None, draft_answer=draft.draft_answer,
            draft_option=choice.answer_option if choice else None, refined_answer=refined.parsed["final_answer"],
            refined_option=refined.parsed.get("answer_option"), answer_agreement=agreed, refine_decision=decision,
            reasoning=generated.reasoning, generator_model=generated.model, refiner_model=refined.model,
            annotator_model=survivor.verified.model, generator_prompt_version=strategy.prompt_version,
            refiner_prompt_version=self.refine.prompt_version, verify_prompt_version=self.check.task.prompt_version,
            temperature=strategy.temperature, top_p=strategy.top_p, sampling_seed=job.replica,
            generator_request_id=generated.request_id, refiner_request_id=refined.request_id,
            verify_request_id=survivor.verified.request_id,
        )


def _reject(job: SynthesisJob, run_id: str, step: str, reason: RejectReason, outcome: LlmOutcome,
            difficulty: int | None = None, detail: str | None = None) -> SynthesisReject:
    return SynthesisReject(
        item_id=job.job_id, run_id=run_id, plan_id=job.plan_id, strategy=job.strategy, seed_id=job.seed_id,
        discipline_id=job.discipline_id, target_difficulty=job.target_difficulty, verified_difficulty=difficulty,
        step=step, reason=outcome.failure_reason(reason), detail=detail or outcome.reason or "",  # type: ignore[arg-type]
        raw_output=outcome.raw_text,
        model=outcome.model, request_id=outcome.request_id,
    )
