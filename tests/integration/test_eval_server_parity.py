"""Generative benchmarks scored through an OpenAI-compatible server (the ``boostqa_llm_eval`` path) agree with the
in-process HF model: the embedded vLLM server serves the baseline's own weights; GSM8K, item by item, both sides in
the server's precision."""

from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.eval.runner import ModelRuntime, ModelTarget, evaluate_model
from boostqa.eval.tasks import EvalTaskSettings
from boostqa.lake import layout
from boostqa.settings import BoostqaSettings
from boostqa_dev.stack.llm_server import resolve_dtype
from tests.conftest import MemoryStore, lake_rows

pytestmark = pytest.mark.integration


def test_gsm8k_through_the_server_scores_like_the_in_process_model(stack_with_llm: BoostqaSettings, tmp_path: Path,
                                                                   memory_store: MemoryStore) -> None:
    settings = stack_with_llm
    folder = str(settings.served_model_dir)
    task = EvalTaskSettings(limit=3, max_new_tokens=96)
    in_process = ModelTarget(model_id="in_process", hf_folder=folder)
    served = ModelTarget(model_id="served", hf_folder=folder, server_url=settings.llm_base_url,
                         served_model=settings.llm_server.served_model_name)
    assert in_process.identity != served.identity  # the same weights, another generation path: never shared answers
    # the server's precision (bf16 on a CPU with native bf16, as the embedded stack resolves it), so greedy decoding
    # of the same weights can agree
    dtype = resolve_dtype(settings.llm_server.dtype)
    evaluate_model(memory_store, in_process, ["gsm8k"], task, tmp_path / "work", "parity",
                   runtime=ModelRuntime(device="cpu", dtype=dtype))
    evaluate_model(memory_store, served, ["gsm8k"], task, tmp_path / "work", "parity")
    assert (tmp_path / "work" / served.answers_key / "_batch" / "server_responses.jsonl").is_file()
    assert not (tmp_path / "work" / served.answers_key / "_batch" / "responses.jsonl").exists()  # no HF run
    local, remote = ({r["item_id"]: r for r in lake_rows(memory_store, layout.eval_part("items", model, "gsm8k"))}
                     for model in ("in_process", "served"))
    assert len(local) == len(remote) == 3 and local.keys() == remote.keys()
    opening = []
    for item_id, row in local.items():
        ours, theirs = str(row["output"]).split(), str(remote[item_id]["output"]).split()
        pairs = zip(ours, theirs, strict=False)  # the texts may differ in length past the opening
        shared = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(ours), len(theirs)))
        opening.append(shared)
        # Greedy decoding of the same weights from the same prompt: the same opening, and the same verdict. Past the
        # opening words two engines' bf16 kernels round differently and the texts may part (docs/eval.md).
        assert shared >= 1, (item_id, row["output"][:200], remote[item_id]["output"][:200])
        assert remote[item_id]["correct"] == row["correct"], item_id
    print(f"words in common at the start of each generation: {opening}")
