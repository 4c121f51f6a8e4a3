"""An anneal probe's plan: a candidate slice into a reference mix against a control, from one reused base."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.studies.anneal import CANDIDATE_ITEMS, AnnealRunConfig, prepare_anneal
from boostqa.studies.collect import probe_rows, publish_probe
from tests.conftest import MemoryStore

RUN = "anneal_probe_20261208T010000Z_0a1b2c3d"
CONFIG = AnnealRunConfig.from_params({"tokens": 512, "seq_len": 16, "micro_batch_size": 2, "base_tokens": 256,
                                      "base_size": "32x1", "heldout_fraction": 0.2})


def _plan(store: MemoryStore, tokenizer_dir: Path, training: Path, config: AnnealRunConfig = CONFIG,
          run: str = RUN) -> dict[str, object]:
    return prepare_anneal(store, config, run, "v1", tokenizer_dir, training)


def test_both_arms_anneal_the_same_tokens_to_zero_from_the_same_base(study_lake: MemoryStore, tokenizer_dir: Path,
                                                                    tmp_path: Path) -> None:
    plan = _plan(study_lake, tokenizer_dir, tmp_path)
    (base,) = plan["bases"]
    candidate, control = plan["arms"]
    assert (candidate["arm"], control["arm"]) == ("candidate", "control")
    assert candidate["tokens"] == control["tokens"] and candidate["steps"] == control["steps"] == 16  # 512 / 16 / 2
    assert candidate["candidate_tokens"] == round(0.3 * 512) and control["candidate_tokens"] == 0
    start = f"model.path={Path(base['output_dir']) / 'hf'}"
    for arm in (candidate, control):
        assert start in arm["overrides"] and "optim.min_lr_ratio=0.0" in arm["overrides"]
    assert base["run_id"].startswith("anneal_base.32x1-b256-") and "model.source=tiny" in base["overrides"]
    assert [e["model_id"] for e in plan["evals"]] == [f"{RUN}.candidate", f"{RUN}.control"]
    blend = json.loads((Path(candidate["data_dir"]) / "manifest.json").read_text())["blend"]
    assert blend["tokens"] == {"candidate": 154, "reference": 358}


def test_a_later_probe_reuses_the_finished_base_and_a_named_base_needs_none(study_lake: MemoryStore,
                                                                          tokenizer_dir: Path, tmp_path: Path) -> None:
    first = _plan(study_lake, tokenizer_dir, tmp_path)
    (base,) = first["bases"]
    Path(base["output_dir"]).mkdir(parents=True)
    (Path(base["output_dir"]) / "status.json").write_text(json.dumps({"state": "succeeded"}))
    later = _plan(study_lake, tokenizer_dir, tmp_path, run="anneal_probe_20261209T010000Z_0a1b2c3d")
    assert later["bases"] == [] and later["base_model"] == base["run_id"]
    named = _plan(study_lake, tokenizer_dir, tmp_path, CONFIG.model_copy(update={"base_model": "/ckpt/llama"}),
                  run="anneal_probe_20261210T010000Z_0a1b2c3d")
    assert named["bases"] == [] and "model.path=/ckpt/llama" in named["arms"][0]["overrides"]


def test_a_slice_keeps_only_its_items_and_an_empty_slice_is_refused(study_lake: MemoryStore, tokenizer_dir: Path,
                                                                    tmp_path: Path) -> None:
    physics = CONFIG.model_copy(update={"slice_discipline": "physics", "slice_difficulty": 3})
    plan = _plan(study_lake, tokenizer_dir, tmp_path, physics)
    items = pq.read_table(tmp_path / "studies" / RUN / CANDIDATE_ITEMS).to_pylist()
    assert items and {(i["discipline_id"], i["difficulty"]) for i in items} == {("physics", 3)}
    assert plan["candidate_items"] == len(items) <= plan["candidate_pool"]  # the items the blend really holds
    with pytest.raises(ConfigError, match="0 training items in the slice"):
        _plan(study_lake, tokenizer_dir, tmp_path, CONFIG.model_copy(update={"slice_discipline": "biology"}),
              run="anneal_probe_20261213T010000Z_0a1b2c3d")


def test_collect_gives_an_arm_row_each_and_every_documents_loss_with_its_bucket(
        study_lake: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> None:
    plan = _plan(study_lake, tokenizer_dir, tmp_path)
    for index, arm in enumerate(plan["arms"]):
        out = Path(arm["output_dir"])
        out.mkdir(parents=True)
        sets = {}
        for name in ("boostqa", "general"):
            rows = json.loads((Path(arm["data_dir"]) / "heldout" / f"{name}.rows.json").read_text())
            sets[name] = {"row_losses": [3.0 + index] * len(rows), "row_tokens": [5] * len(rows)}
        (out / "heldout.json").write_text(json.dumps({"before": sets, "after": sets}))
        (out / "status.json").write_text(json.dumps({"state": "succeeded", "wall_seconds": 4.0,
                                                     "heldout_after": {"boostqa": 3.0 + index}}))
    items = pq.read_table(tmp_path / "studies" / RUN / CANDIDATE_ITEMS).to_pylist()
    arms, documents = probe_rows(plan, items)
    assert [(a["arm"], a["eval_model_id"], a["heldout_boostqa_after"]) for a in arms] == [
        ("candidate", f"{RUN}.candidate", 3.0), ("control", f"{RUN}.control", 4.0)]
    held = [d for d in documents if d["use"] == "heldout" and d["heldout_set"] == "boostqa"]
    assert held and all(d["discipline_id"] in {"physics", "mathematics"} for d in held)
    assert len([d for d in documents if d["use"] == "trained"]) == len(items)
    assert publish_probe(study_lake, plan, items) == (2, len(documents))
    assert study_lake.get_bytes(layout.anneal_part("anneal_documents", RUN))


def test_a_retried_prepare_keeps_its_plan_and_a_reference_never_holds_the_candidates_items(
        study_lake: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> None:
    first = _plan(study_lake, tokenizer_dir, tmp_path)
    again = _plan(study_lake, tokenizer_dir, tmp_path, CONFIG.model_copy(update={"tokens": 1024}))
    assert again == first  # the same run id: the plan its runs already read, not a new one
    with pytest.raises(ConfigError, match="compare it with itself"):
        _plan(study_lake, tokenizer_dir, tmp_path, CONFIG.model_copy(update={"reference_version": "v1"}),
              run="anneal_probe_20261211T010000Z_0a1b2c3d")
    study_lake.put_bytes(layout.mixture_prefix("v0") + "selection.parquet",
                         study_lake.get_bytes(layout.mixture_prefix("v1") + "selection.parquet"))
    run = "anneal_probe_20261212T010000Z_0a1b2c3d"
    plan = _plan(study_lake, tokenizer_dir, tmp_path, CONFIG.model_copy(update={"reference_version": "v0"}), run=run)
    # v0 holds the same items as v1: every one of them is the candidate's, so none joins the reference mix
    assert plan["reference_documents"] == first["reference_documents"]
