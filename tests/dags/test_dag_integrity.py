"""Every DAG imports with no connections defined, fast, with owners, retries and tags (cosmos-style check)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from boostqa_dev.checkout import PROJECT_ROOT

pytestmark = pytest.mark.dag
EXPECTED_DAGS = {"seed_ingest", "seed_annotate", "warehouse_build", "qa_synthesis", "mixture_export", "midtrain",
                 "scaling_sweep", "anneal_probe",
                 "benchmark_eval"}


@pytest.fixture(scope="module")
def dagbag() -> Iterator[object]:
    from airflow.dag_processing.dagbag import DagBag

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AIRFLOW_CONN_")}
    try:
        yield DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    finally:
        os.environ.update(saved)


def test_dags_import_without_errors_or_connections(dagbag: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert dagbag.import_errors == {}  # type: ignore[attr-defined]
    assert set(dagbag.dags) == EXPECTED_DAGS  # type: ignore[attr-defined]
    for stat in dagbag.dagbag_stats:  # type: ignore[attr-defined]
        seconds = stat.duration.total_seconds()
        with capsys.disabled():  # shown in every run, not only on failure
            print(f"\n  parse time {stat.file}: {seconds:.2f}s ({stat.task_num} tasks)", end="")
        assert seconds < 30, f"{stat.file} parses too slowly ({seconds:.1f}s)"


def test_every_task_has_owner_retries_and_every_dag_tags(dagbag: object) -> None:
    for dag in dagbag.dags.values():  # type: ignore[attr-defined]
        assert "boostqa" in dag.tags
        for task in dag.tasks:
            assert task.owner == "boostqa", task.task_id
            assert task.retries >= 1, task.task_id


def test_dbt_tasks_run_in_the_one_slot_pool_and_cover_the_marts(dagbag: object) -> None:
    dag = dagbag.dags["warehouse_build"]  # type: ignore[attr-defined]
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert dbt_tasks and all(t.pool == "boostqa_dbt" for t in dbt_tasks)
    ids = {t.task_id for t in dbt_tasks}
    for model in ("stg_seeds__questions", "fct_seed_ingest_counts", "fct_quarantine_reasons", "dim_disciplines"):
        assert any(model in task_id for task_id in ids), model
    # the mixture is built per version and tokenizer by mixture_export only (its token counts come from that run)
    assert not any("training_mixture" in task_id for task_id in ids)


def test_warehouse_build_is_scheduled_on_the_seeds_asset(dagbag: object) -> None:
    ingest = dagbag.dags["seed_ingest"]  # type: ignore[attr-defined]
    publish = ingest.get_task("publish_seeds")
    assert [o.name for o in publish.outlets] == ["boostqa_seeds"]
    build = dagbag.dags["warehouse_build"]  # type: ignore[attr-defined]
    assert "boostqa_seeds" in repr(build.timetable.asset_condition)
    assert "boostqa_annotations" in repr(build.timetable.asset_condition)
    # the closed loop: an evaluation re-plans (guarded: publish_plan skips when the probe did not move)
    assert "boostqa_eval" in repr(build.timetable.asset_condition)
    assert build.params["replan_min_change"] == 0.02


def test_seed_annotate_maps_one_pooled_retried_task_per_frozen_shard_then_finishes(dagbag: object) -> None:
    dag = dagbag.dags["seed_annotate"]  # type: ignore[attr-defined]
    assert "boostqa_seeds" in repr(dag.timetable.asset_condition)
    freeze, shard, finish = (dag.get_task(t) for t in ("freeze_shards", "annotate_shard", "finish_run"))
    assert hasattr(shard, "expand_input") and not hasattr(freeze, "expand_input")  # mapped over the shard ids
    assert shard.upstream_task_ids == {"freeze_shards"} and shard.downstream_task_ids == {"finish_run"}
    assert shard.pool == "boostqa_llm_annotator" and shard.retries == 4  # the LLM kind: a shard retries alone
    assert freeze.pool != "boostqa_llm_annotator" and finish.pool != "boostqa_llm_annotator"
    assert [o.name for o in finish.outlets] == ["boostqa_annotations"] and not shard.outlets and not freeze.outlets
    assert finish.trigger_rule == "all_success"  # the summary marker only after every shard succeeded


def test_qa_synthesis_is_chained_by_the_plan_and_qa_assets(dagbag: object) -> None:
    build = dagbag.dags["warehouse_build"]  # type: ignore[attr-defined]
    assert [o.name for o in build.get_task("publish_warehouse").outlets] == ["boostqa_warehouse"]
    assert [o.name for o in build.get_task("publish_plan").outlets] == ["boostqa_plan"]
    synthesis = dagbag.dags["qa_synthesis"]  # type: ignore[attr-defined]
    assert "boostqa_plan" in repr(synthesis.timetable.asset_condition)
    assert [o.name for o in synthesis.get_task("publish_qa").outlets] == ["boostqa_qa"]
    shard = synthesis.get_task("synthesize_shard")
    assert shard.pool == "boostqa_llm_generator" and shard.retries >= 1
    dbt_ids = {t.task_id for t in synthesis.tasks if t.task_id.startswith("dbt_synthesis.")}
    for model in ("stg_qa__items", "fct_synthesis_funnel", "fct_synthesis_usage", "fct_plan_vs_actual"):
        assert any(model in task_id for task_id in dbt_ids), model
    # The plan is not rebuilt here: a synthesis run must not announce a new plan (that would loop).
    assert not any("fct_generation_plan" in task_id for task_id in dbt_ids)


def test_qa_synthesis_ends_with_quality_control_before_its_marts(dagbag: object) -> None:
    synthesis = dagbag.dags["qa_synthesis"]  # type: ignore[attr-defined]
    qc = synthesis.get_task("quality_control.filter_decontaminate_dedup")
    assert "synthesize_shard" in qc.upstream_task_ids
    dbt_ids = {t.task_id for t in synthesis.tasks if t.task_id.startswith("dbt_synthesis.")}
    for model in ("stg_qc__removals", "int_qa_items_screened", "fct_qc_funnel", "fct_qc_passed_items"):
        assert any(model in task_id for task_id in dbt_ids), model


def test_mixture_export_runs_on_qa_and_announces_the_training_mixture(dagbag: object) -> None:
    mixture = dagbag.dags["mixture_export"]  # type: ignore[attr-defined]
    assert "boostqa_qa" in repr(mixture.timetable.asset_condition)
    assert [o.name for o in mixture.get_task("publish_mixture").outlets] == ["training_mixture"]
    selection = {t.task_id for t in mixture.tasks if t.task_id.startswith("dbt_mixture.")}
    assert any("export_training_mixture" in t for t in selection)
    assert not any("fct_qc" in t for t in selection)  # QC marts belong to qa_synthesis
    export = mixture.get_task("export_mixture")
    assert any(t.startswith("dbt_mixture.") for t in export.upstream_task_ids)
    # the selection mixes by tokens: counted first, on Ray, and dbt told which tokenizer counted
    count = mixture.get_task("count_tokens")
    assert count.upstream_task_ids == {"qc_general_corpus"}
    # the staged general corpus passes QC (the QC job of synthesis runs) before anything counts or selects it
    general_qc = mixture.get_task("qc_general_corpus")
    assert general_qc.upstream_task_ids == {"stage_general_corpus"}
    assert general_qc.operator_name == "GeneralCorpusQcOperator"
    assert "int_general_documents_passed" in " ".join(selection)
    assert any(t.startswith("dbt_mixture.") for t in count.downstream_task_ids)
    assert (count.operator_name, export.operator_name) == ("CountTokensOperator", "ExportMixtureOperator")
    assert "stg_mixtures__token_counts" in " ".join(selection)


def test_midtrain_runs_on_the_mixture_and_announces_the_checkpoint(dagbag: object) -> None:
    midtrain = dagbag.dags["midtrain"]  # type: ignore[attr-defined]
    assert "training_mixture" in repr(midtrain.timetable.asset_condition)
    train, publish = midtrain.get_task("train"), midtrain.get_task("publish_training_run")
    assert train.start_from_trigger is False and publish.upstream_task_ids == {"train"}
    assert [o.name for o in publish.outlets] == ["checkpoint"]  # announced after the metrics reach the lake
    assert any(t.startswith("dbt_training.") for t in publish.downstream_task_ids)


def test_benchmark_eval_runs_on_the_checkpoint_maps_over_models_and_benchmarks_and_refreshes_the_probe(
        dagbag: object) -> None:
    dag = dagbag.dags["benchmark_eval"]  # type: ignore[attr-defined]
    assert "checkpoint" in repr(dag.timetable.asset_condition)
    evaluate = dag.get_task("evaluate")
    assert evaluate.upstream_task_ids == {"resolve_models"} and evaluate.pool == "boostqa_eval"
    dbt_ids = {t.task_id for t in dag.tasks if t.task_id.startswith("dbt_eval.")}
    for model in ("stg_eval__items", "fct_eval_headline", "fct_eval_bucket_comparison", "fct_deficiency_probe",
                  "fct_mixing_ratios"):
        assert any(model in task_id for task_id in dbt_ids), model
    report = dag.get_task("report")
    assert [o.name for o in report.outlets] == ["boostqa_eval"]
    assert any(t.startswith("dbt_eval.") for t in report.upstream_task_ids)


@pytest.mark.parametrize(("dag_id", "group", "name"), [("warehouse_build", "dbt.", "plan_id"),
                                                       ("mixture_export", "dbt_mixture.", "mixture_version"),
                                                       ("mixture_export", "dbt_lineage.", "mixture_version")])
def test_dbt_tasks_get_the_run_ids_as_env_vars_not_dbt_vars(dagbag: object, dag_id: str, group: str,
                                                             name: str) -> None:
    """Every dbt task of the group builds with the DAG run's id (a template cosmos renders per task), as an env var:
    new --vars on every run would make dbt re-parse the whole project."""
    dag = dagbag.dags[dag_id]  # type: ignore[attr-defined]
    tasks = [t for t in dag.tasks if t.task_id.startswith(group) and hasattr(t, "vars")]
    assert tasks
    for task in tasks:
        assert not task.vars, task.task_id
        assert "{{ boostqa_run_id(" in task.env[f"BOOSTQA_{name.upper()}"], task.task_id


def test_the_mixing_params_reach_dbt_as_env_vars_over_its_vars(dagbag: object) -> None:
    """The export config's mixing fields (one definition: Param, operator, dbt) reach every dbt_mixture task."""
    dag = dagbag.dags["mixture_export"]  # type: ignore[attr-defined]
    tasks = [t for t in dag.tasks if t.task_id.startswith("dbt_mixture.") and hasattr(t, "vars")]
    assert tasks
    for task in tasks:
        assert task.env["BOOSTQA_MIXTURE_GENERAL_RATIO"] == "{{ params.general_ratio }}", task.task_id
        assert task.env["BOOSTQA_MIXTURE_BUCKET_CAP"] == "{{ params.bucket_cap }}", task.task_id
        assert "xcom_pull(task_ids='count_tokens')" in task.env["BOOSTQA_MIXTURE_TOKENIZER"], task.task_id
    assert (dag.params["general_ratio"], dag.params["bucket_cap"]) == (1.0, 100000)


def test_every_stage_operator_gets_its_config_from_params_derived_from_that_config(dagbag: object) -> None:
    """Each operator with a typed run config receives one ``stage_params`` dict whose every value is the template
    of a DAG param that exists (so a param renamed in the config cannot leave an operator reading nothing)."""
    seen = 0
    for dag in dagbag.dags.values():  # type: ignore[attr-defined]
        for task in dag.tasks:
            mapped = hasattr(task, "partial_kwargs")
            config = getattr(task.operator_class if mapped else task, "run_config", None)
            if config is None or (mapped and "stage_params" not in task.partial_kwargs):
                continue  # a study's training runs: each run's params come from its plan, validated as it starts
            seen += 1
            templates = task.partial_kwargs["stage_params"] if mapped else task.stage_params
            assert set(templates) == set(config.model_fields), (dag.dag_id, task.task_id)
            for template in templates.values():
                param = template.removeprefix("{{ params.").removesuffix(" }}")
                assert param in dag.params, (dag.dag_id, task.task_id, param)
    # list and ingest sources, freeze and annotate shards, snapshot, synthesize, QC (synthesis runs and the general
    # corpus), count tokens, export, train, resolve, evaluate, publish the plan, prepare a scaling sweep, and the
    # anneal probe's prepare, eval targets and evaluate
    assert seen == 18


def test_warehouse_build_checks_source_freshness_beside_the_build(dagbag: object) -> None:
    dag = dagbag.dags["warehouse_build"]  # type: ignore[attr-defined]
    check = dag.get_task("check_source_freshness")
    assert check.operator_name == "SourceFreshnessOperator"
    assert check.upstream_task_ids == {"prepare_lake"}  # after the bootstrap parts that keep dbt's globs valid
    assert check.downstream_task_ids == set()  # a stale source fails the run but never holds the plan back
    assert check.pool == "boostqa_dbt"  # dbt opens the warehouse file: one writer at a time
    assert any(t.startswith("dbt.") for t in dag.get_task("prepare_lake").downstream_task_ids)
