"""Difficulty verification: re-annotate a synthesized question and reject it when it fell short of its target."""

from __future__ import annotations

from dataclasses import dataclass

from boostqa.annotate.task import AnnotationTask, SeedToAnnotate
from boostqa.llm.types import LlmRequest
from boostqa.synthesize.strategies import ChoiceDraft, OpenDraft


@dataclass(frozen=True)
class DifficultyCheck:
    """``tolerance``: how many levels below its target a question may be annotated and still pass."""

    task: AnnotationTask
    tolerance: int = 0

    def build_request(self, item_id: str, language: str, draft: OpenDraft) -> LlmRequest:
        """The annotation request for the new question (same prompt and schema as seed annotation)."""
        options = draft.options if isinstance(draft, ChoiceDraft) else None
        return self.task.build_request(SeedToAnnotate(seed_id=item_id, question=draft.question, options=options,
                                                      language=language))

    def reached(self, target_difficulty: int, annotated_difficulty: int) -> bool:
        """True when the annotated difficulty is at least the target minus the tolerance."""
        return annotated_difficulty >= target_difficulty - self.tolerance
