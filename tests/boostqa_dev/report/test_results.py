"""The model side of the demo summary: training lines from the marts and the mixture manifest, failures shown."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

from boostqa_dev.report.results import eval_table
from boostqa_dev.report.results import training_lines as _training_lines
from tests.conftest import isolated_settings

DAY = date(2026, 11, 26)


def _warehouse(path: Path, runs: list[tuple[object, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_training_runs (run_id varchar, training_config varchar,
            mixture_version varchar, last_step bigint, loss_first double, loss_last double,
            loss_last_trailing_mean double, tokens_trained bigint, tokens_per_s double, mixture_epochs double)""")
        if runs:
            con.executemany("insert into marts.fct_training_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", runs)


def _manifest(state: Path, version: str, samples: int) -> None:
    folder = state / "mixtures" / version
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({
        "mixture_version": version, "counts": {"samples": samples, "by_source": {"boostqa": samples}},
        "tokens": 1000, "packed": {"seq_len": 512, "shards": [{"sequences": 2}]}}))


def test_the_latest_run_and_its_mixture_are_reported(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    _manifest(tmp_path, "v1", 9)
    _manifest(tmp_path, "v2", 20)  # newer, but the run trained on v1
    _warehouse(settings.warehouse_path, [
        ("midtrain_20261125", "cpu_smollm2", "v2", 4, 3.0, 2.0, 2.2, 2048, 60.0, 1.0),
        ("midtrain_20261126", "cpu_smollm2", "v1", 16, 1.894, 0.412, 0.5, 8192, 61.5, 16.4),
    ])
    status = tmp_path / "checkpoints" / "midtrain_20261126" / "status.json"
    status.parent.mkdir(parents=True)
    status.write_text(json.dumps({"state": "succeeded", "hf_folder": "/x/hf"}))
    mixture, training, folder = _training_lines(settings, DAY)
    assert mixture.startswith("mixture v1: 9 samples (boostqa 9), 1,000 tokens, 2 packed sequences of 512")
    assert "midtrain_20261126 (cpu_smollm2, 16 steps, 8,192 tokens at 62 tokens/s, 16.4 passes" in training
    assert "loss 1.894 at the start -> 0.412 at the end" in training
    assert folder == "mid-trained model midtrain_20261126 (HF folder): /x/hf"


def test_a_failed_run_is_reported_with_its_error(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    _warehouse(settings.warehouse_path, [])
    status = tmp_path / "checkpoints" / "midtrain_20261126" / "status.json"
    status.parent.mkdir(parents=True)
    status.write_text(json.dumps({"state": "failed", "error": "CorruptShardError: packed-00000.bin"}))
    assert _training_lines(settings, DAY) == ["mid-training midtrain_20261126: failed CorruptShardError: "
                                              "packed-00000.bin"]


def test_the_eval_summary_gives_every_change_its_interval_and_says_when_it_is_noise(tmp_path: Path) -> None:
    """The demo's headline line: a +25-point change from a few items is "within noise" (its interval holds 0), a
    change whose interval excludes 0 is "beyond noise", and each benchmark row carries its interval."""
    settings = isolated_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_eval_comparison as select * from (values
            ('MMLU', 'acc', 6, 6, 0.083, 0.333, 25.0, 300.0, -8.3, 58.3, true, 'ckpt', true),
            ('GSM8K', 'exact_match', 6, 6, 0.0, 0.5, 50.0, null, 16.7, 83.3, false, 'ckpt', false))
            t(display_name, metric, items, shared_items, baseline_value, model_value, delta_points, relative_pct,
              delta_ci_low_points, delta_ci_high_points, within_noise, model_id, in_headline)""")
        con.execute("""create table marts.fct_eval_headline as select *, false as is_study from (values
            ('ckpt', false, timestamp '2026-11-26 10:00', 0.083, 0.333, 25.0, -8.3, 58.3, true, 0.1, 0.4, 30.0,
             5.0, 55.0, false, 2)) t(model_id, is_baseline, evaluated_at, baseline_headline, headline,
            headline_delta_points, headline_ci_low_points, headline_ci_high_points, headline_within_noise,
            baseline_average_12, average_12, average_12_delta_points, average_12_ci_low_points,
            average_12_ci_high_points, average_12_within_noise, benchmarks)""")
    table = eval_table(settings)
    assert table is not None
    caption = str(table.caption)
    assert "8.3 -> 33.3 (+25.0 points, CI -8.3 to +58.3: within noise)" in caption
    assert "(+30.0 points, CI +5.0 to +55.0: beyond noise)" in caption
    rows = {cells[0]: cells for cells in zip(*(column._cells for column in table.columns), strict=True)}
    assert rows["MMLU"][6] == "-8.3 to +58.3" and rows["MMLU"][7] == "within noise (+300 %)"
    assert rows["GSM8K"][7] == "-"
