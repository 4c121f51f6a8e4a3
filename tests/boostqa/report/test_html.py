"""The HTML report: renders with whatever marts exist, draws the figures it has data for, lands locally and in S3."""

from __future__ import annotations

from pathlib import Path

import duckdb

from boostqa.report.html import write_report
from boostqa.warehouse import publish_snapshot
from tests.conftest import MemoryStore, isolated_settings


def test_an_empty_warehouse_gives_a_report_that_says_what_is_missing(tmp_path: Path,
                                                                     memory_store: MemoryStore) -> None:
    settings = isolated_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_training_steps as select 'r1' as run_id, range as step, "
                    "3.0 - 0.1 * range as loss, 3.0 as loss_trailing_mean from range(10)")
    publish_snapshot(settings.warehouse_path)  # what the build's last task does: the report reads the snapshot
    path, uri = write_report(settings, memory_store, "r1")
    html = path.read_text()
    assert path == tmp_path / "reports" / "r1" / "index.html" and uri == "s3://test-bucket/reports/r1/index.html"
    assert memory_store.objects["reports/r1/index.html"].decode() == html
    assert "no evaluation yet: run the benchmark_eval DAG" in html and "no QC run yet" in html
    loss_section = html.split('id="training"')[1]
    assert "<svg" in loss_section and "no training run yet" not in loss_section


def test_eval_qc_and_ledger_tables_show_their_numbers_and_a_missing_score_as_missing(
        tmp_path: Path, memory_store: MemoryStore) -> None:
    settings = isolated_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_eval_comparison as select * from (values
            ('mmlu', 'acc', 6, 0.5, 'base', 'ckpt', 0.75, 25.0, 50.0, 5.0, 45.0, false),
            ('cmmlu', 'acc', 6, 0.25, 'base', 'ckpt', 0.5, 25.0, 100.0, -8.3, 58.3, true),
            ('gsm8k', 'exact_match', 4, null, 'base', 'ckpt', 0.25, null, null, null, null, true))
            t(benchmark, metric, items, baseline_value, baseline_model_id, model_id, model_value, delta_points,
              relative_pct, delta_ci_low_points, delta_ci_high_points, within_noise)""")
        con.execute("""create table marts.fct_eval_headline as select *, current_timestamp as evaluated_at,
                       false as is_study from (values
            ('base', true, 0.375, null, null, null, null, true, 0.4, null, null, null, true, 12),
            ('ckpt', false, 0.625, 25.0, 66.7, -8.3, 58.3, true, 0.45, 5.0, 1.0, 9.0, false, 12))
            t(model_id, is_baseline, headline, headline_delta_points, headline_relative_pct, headline_ci_low_points,
              headline_ci_high_points, headline_within_noise, average_12, average_12_delta_points,
              average_12_ci_low_points, average_12_ci_high_points, average_12_within_noise, benchmarks)""")
        con.execute("""create table marts.fct_qc_funnel as select 'run' as synthesis_run_id, 8 as synthesized,
                       7 as after_filters, 7 as after_decontamination, 6 as after_exact_dedup, 5 as kept""")
        con.execute("""create table marts.fct_llm_usage as select 'synthesize' as stage, 'run' as run_id,
                       'generator' as role, 'm' as model, 12 as calls, 3 as cache_hits,
                       12345 as billed_prompt_tokens, 678 as billed_completion_tokens, null as cost_usd""")
    publish_snapshot(settings.warehouse_path)
    html = write_report(settings, memory_store, "r2")[0].read_text()
    table = html.split('id="benchmarks"')[1].split("</section>")[0]
    rows = {cells[0]: cells for cells in (
        [c.split(">", 1)[1] for c in row.split("</td>")[:-1]] for row in table.split("<tr>")[2:])}
    assert rows["mmlu"][:4] == ["mmlu", "acc", "6", "50.0"] and rows["mmlu"][5] == "75.0"
    assert rows["gsm8k"][2] == "4" and rows["gsm8k"][3] == "–"  # the missing baseline is shown as missing
    # Every change says whether its interval holds 0: a +100 % that is within noise is shown as such, uncoloured.
    assert rows["mmlu"][7] == "+5.0 to +45.0: beyond noise"
    assert 'class="up"' in table.split("<td>mmlu")[1].split("</tr>")[0]
    assert rows["cmmlu"][7] == "-8.3 to +58.3: within noise" and rows["gsm8k"][7] == "no interval: within noise"
    assert 'class="up"' not in table.split("<td>cmmlu")[1].split("</tr>")[0]
    headline = html.split('id="headline"')[1].split("</section>")[0]
    assert "+25.0" in headline and "-8.3 to +58.3: within noise" in headline
    assert "+1.0 to +9.0: beyond noise" in headline
    assert "built-in method" not in html and "<svg" in table
    assert "<svg" in html.split('id="qc"')[1].split("</section>")[0]
    ledger = html.split('id="ledger"')[1].split("</section>")[0]
    assert "12,345" in ledger and "678" in ledger and "n/a" in ledger
