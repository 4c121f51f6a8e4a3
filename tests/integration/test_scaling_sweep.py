"""scaling_sweep through ``airflow dags test`` on the embedded stack, at a tiny size: two model sizes, a seeded init
and a base pre-trained on general text, two BoostQA volumes, each cell against its general-text control. Every run
goes through the local launcher (torchrun, DeepSpeed on CPU); dbt builds the grid and the fitted trend, and the report
draws it. The mixture is written straight into the lake (tests/integration/study_mixture.py): no LLM server.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import query
from boostqa_dev.demo import run_dag
from boostqa_dev.stack.llm_server import model_dir
from boostqa_dev.stack.seaweedfs import lake_config
from tests.integration.study_mixture import write_study_mixture

pytestmark = pytest.mark.integration
DAY = date(2026, 12, 8)
MIXTURE = "sweep_fixture_v1"
SWEEP = {"mixture_version": MIXTURE, "sizes": "32x1,64x1", "base_tokens": "0,2048", "boostqa_tokens": "512,2048",
         "seq_len": 32, "micro_batch_size": 4, "lr": 0.01, "heldout_docs": 24, "heldout_fraction": 0.15}


@pytest.mark.timeout(1800)
def test_the_sweep_trains_every_cell_against_its_control_and_dbt_fits_the_trend(stack: BoostqaSettings) -> None:
    store = ObjectStore(lake_config(stack))
    assert write_study_mixture(store, MIXTURE) > 100
    run_dag(stack, "scaling_sweep", DAY, conf=SWEEP | {"tokenizer_dir": str(model_dir(stack))})

    (sweep_run,) = {k.split("run_id=")[1].split("/")[0] for k in store.list_keys(f"{layout.SCALING_CELLS}/")
                    if "_bootstrap" not in k}
    grid = query(stack.warehouse_path, "select * from marts.fct_scaling_grid where sweep_run_id = "
                 f"'{sweep_run}' order by model_size, base_tokens, boostqa_tokens")
    assert [(r["model_size"], r["base_tokens"], r["boostqa_tokens"]) for r in grid] == [
        (size, base, volume) for size in ("32x1", "64x1") for base in (0, 2048) for volume in (512, 2048)]
    for row in grid:
        assert row["tokens"] == row["control_tokens"] == row["boostqa_tokens"] * 2  # the same tokens in both arms
        assert row["base_flops"] == 6 * row["non_embedding_parameters"] * row["base_tokens"]
        # mid-training on BoostQA items lowers the loss on held-out items of the same kind
        assert row["heldout_boostqa_after"] < row["heldout_boostqa_before"], row
    sizes = {r["model_size"]: r["non_embedding_parameters"] for r in grid}
    assert sizes["32x1"] < sizes["64x1"]
    for size in sizes:  # a base pre-trained on general text starts lower on held-out general text than the init
        scratch, pretrained = (next(r for r in grid if r["model_size"] == size and r["base_tokens"] == b)
                               for b in (0, 2048))
        assert pretrained["heldout_general_before"] < scratch["heldout_general_before"] - 0.5
    trend = query(stack.warehouse_path, "select * from marts.fct_scaling_trend where sweep_run_id = "
                  f"'{sweep_run}'")
    assert len(trend) == 8 and all(r["fit_points"] == 2 and r["fit_slope"] is not None for r in trend)
    assert all(abs(r["residual"]) < 1e-5 for r in trend)  # two volumes: the line goes through both points

    cells = query(stack.warehouse_path, "select training_run_id, wall_seconds, boostqa_passes from "
                  f"staging.stg_studies__scaling_cells where sweep_run_id = '{sweep_run}'", lake_config(stack))
    assert len(cells) == 16
    for cell in cells:  # each arm is a real training run with its checkpoint and HF export
        output = stack.training_dir / "checkpoints" / cell["training_run_id"]
        assert json.loads((output / "status.json").read_text())["state"] == "succeeded"
        assert (output / "hf" / "model.safetensors").exists() and cell["wall_seconds"] > 0
    assert store.list_keys(layout.study_data_prefix(sweep_run) + "plan.json")
    report = store.get_bytes(f"reports/{sweep_run}/index.html").decode()
    start = report.index('<section id="scaling">')
    section = report[start : report.index("</section>", start)]
    assert sweep_run in section and "<svg" in section and section.count("<tr>") == 1 + len(grid)
