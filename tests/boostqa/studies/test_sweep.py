"""A sweep's plan: its data in the study folder and the lake, a launch per base and cell; its rows from the runs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from boostqa.errors import ConfigError, LakeError
from boostqa.lake import layout
from boostqa.lake.tables import SCALING_CELL_SCHEMA
from boostqa.studies.collect import cell_rows, publish_cells
from boostqa.studies.grid import SweepRunConfig
from boostqa.studies.sweep import prepare_sweep
from tests.conftest import MemoryStore

RUN = "scaling_sweep_20261208T010000Z_0a1b2c3d"
CONFIG = SweepRunConfig.from_params({"sizes": "32x1,48x2", "base_tokens": "0,256", "boostqa_tokens": "128,256",
                                     "seq_len": 16, "micro_batch_size": 2, "heldout_fraction": 0.2})


def _plan(study_lake: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> dict[str, object]:
    return prepare_sweep(study_lake, CONFIG, RUN, "v1", tokenizer_dir, tmp_path / "training")


def test_the_plan_pretrains_each_budget_and_starts_each_cell_from_its_base(study_lake: MemoryStore,
                                                                          tokenizer_dir: Path, tmp_path: Path) -> None:
    plan = _plan(study_lake, tokenizer_dir, tmp_path)
    bases, cells = plan["bases"], plan["cells"]
    assert [b["base_id"] for b in bases] == ["32x1-b256", "48x2-b256"]  # budget 0 needs no pre-training run
    assert len(cells) == 2 * 2 * 2 * 2
    by_id = {c["cell_id"]: c for c in cells}
    pretrained, scratch = by_id["48x2-b256-d128-boostqa"], by_id["48x2-b0-d128-control"]
    base_out = Path(next(b["output_dir"] for b in bases if b["base_id"] == "48x2-b256"))
    assert f"model.path={base_out / 'hf'}" in pretrained["overrides"]
    assert {"model.source=tiny", "model.hidden_size=48", "model.layers=2", "model.heads=3"} <= set(scratch["overrides"])
    for volume in (128, 256):  # both arms of a volume train on the same tokens, in as many steps
        arms = [by_id[f"32x1-b0-d{volume}-{arm}"] for arm in ("boostqa", "control")]
        assert arms[0]["tokens"] == arms[1]["tokens"] and arms[0]["steps"] == arms[1]["steps"]
        assert (arms[0]["boostqa_tokens"], arms[1]["boostqa_tokens"]) == (volume, 0)
        assert arms[1]["general_tokens"] == 2 * volume  # general_ratio 1: the control's whole mix
        assert f"max_steps={arms[0]['steps']}" in arms[0]["overrides"]
    assert all(c["output_dir"].endswith(f"/checkpoints/{RUN}.{c['cell_id']}") for c in cells)


def test_the_data_is_written_once_locally_and_to_the_lake_and_heldout_documents_never_train(
        study_lake: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> None:
    plan = _plan(study_lake, tokenizer_dir, tmp_path)
    folder = tmp_path / "training" / "studies" / RUN
    blend = folder / "data" / "boostqa-d128"
    assert json.loads((blend / "manifest.json").read_text())["blend"]["tokens"] == {"boostqa": 128, "general": 128}
    heldout = np.load(blend / "heldout" / "boostqa.npy")
    assert heldout.shape[1] == 16 and 0 < heldout.shape[0] <= CONFIG.heldout_docs
    assert plan["pools"]["heldout"]["boostqa"] > 0 and plan["pools"]["train"]["general"] > 0
    keys = study_lake.list_keys(layout.study_data_prefix(RUN))
    local = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert sorted(k.removeprefix(layout.study_data_prefix(RUN)) for k in keys) == local
    heldout_flags = [f"heldout.{s}={blend / 'heldout' / f'{s}.npy'}" for s in ("boostqa", "general")]
    cell = next(c for c in plan["cells"] if c["blend"] == "boostqa-d128")
    assert set(heldout_flags) <= set(cell["overrides"]) and cell["data_dir"] == str(blend)


def test_a_plan_too_small_for_one_step_and_a_mixture_never_exported_are_refused(
        study_lake: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> None:
    tiny = CONFIG.model_copy(update={"boostqa_tokens": [4], "micro_batch_size": 8})
    with pytest.raises(ConfigError, match="fewer than one step"):
        prepare_sweep(study_lake, tiny, RUN, "v1", tokenizer_dir, tmp_path / "training")
    with pytest.raises(LakeError, match="no mixture selection"):
        prepare_sweep(study_lake, CONFIG, RUN, "v3", tokenizer_dir, tmp_path / "training")


def test_collect_joins_each_cell_to_its_status_and_refuses_an_unfinished_run(
        study_lake: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> None:
    plan = _plan(study_lake, tokenizer_dir, tmp_path)
    for index, cell in enumerate(plan["cells"]):
        out = Path(cell["output_dir"])
        out.mkdir(parents=True)
        status = {"state": "succeeded", "parameters": 1000, "non_embedding_parameters": 200, "train_seconds": 1.5,
                  "wall_seconds": 6.0, "loss_last": 3.0, "heldout_before": {"boostqa": 5.0, "general": 5.5},
                  "heldout_after": {"boostqa": 4.0 - index / 100, "general": 4.5}}
        (out / "status.json").write_text(json.dumps(status))
    assert publish_cells(study_lake, plan) == 16
    published = pq.read_table(io.BytesIO(study_lake.get_bytes(layout.scaling_cells_part(RUN))))
    assert published.schema == SCALING_CELL_SCHEMA and published.num_rows == 16
    rows = cell_rows(plan)
    assert set(rows[0]) == set(SCALING_CELL_SCHEMA.names)
    assert rows[0]["run_id"] == RUN and rows[0]["training_run_id"] == f"{RUN}.{rows[0]['cell_id']}"
    assert rows[1]["heldout_boostqa_after"] == pytest.approx(3.99) and rows[1]["heldout_general_before"] == 5.5
    (Path(plan["cells"][3]["output_dir"]) / "status.json").write_text(json.dumps({"state": "failed"}))
    with pytest.raises(ConfigError, match="has not succeeded"):
        cell_rows(plan)
