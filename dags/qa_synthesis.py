"""qa_synthesis: the plan's jobs -> generator (drafts) -> annotator (difficulty check) -> refiner -> qa/ -> QC.

Scheduled on the plan asset. Every DAG run is a new synthesis run (``synthesize_<time>Z_<hash>``) over the plan the
triggering event names; an empty plan skips the run cleanly. Mapped over shards of the frozen job list; each shard
is idempotent (completion marker, cached calls), so a retried run (or one resumed by ``resume_run_id``) continues
where it stopped. The quality_control task group then
filters the run's items, drops benchmark-contaminated ones and removes exact and near duplicates (within the run
and against every earlier run). Ends with the dbt models of the synthesized items and of QC (funnels, usage, plan
versus actual, audit pairs) and announces the ``boostqa_qa`` asset.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param, TaskGroup

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import LLM_POOLS
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.qc import QualityControlOperator
from boostqa_airflow.operators.synthesize import REFINE_POLICIES, SnapshotSynthesisJobsOperator, SynthesizeShardOperator
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import RESUME_PARAM, run_id_template

RUN_ID = run_id_template("synthesize")
BUDGET = {key: "{{ params." + key + " }}" for key in ("run_tokens", "run_usd", "day_tokens", "day_usd")}

with DAG(
    dag_id="qa_synthesis",
    description="Synthesize STEM multi-grade and high-difficulty QA from the plan; verify difficulty; refine answers",
    schedule=[assets.PLAN],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "llm", "synthesis"],
    params={
        "plan_id": Param("", type="string", description="plan whose jobs to run; empty: the plan of the triggering "
                         "boostqa_plan event, else the one plans/latest.json points at"),
        RESUME_PARAM: Param("", type="string", description="continue this earlier synthesis run (its frozen jobs "
                            "and finished shards) instead of starting a new one"),
        "limit": Param(None, type=["null", "integer"], minimum=1, description="take at most this many jobs"),
        "shard_size": Param(32, type="integer", minimum=1, description="jobs per mapped, resumable shard"),
        "difficulty_tolerance": Param(0, type="integer", minimum=0, maximum=4,
                                      description="levels below its target a new question may be annotated"),
        "refine_policy": Param("second_sample", enum=list(REFINE_POLICIES),
                               description="when draft and refined answers disagree"),
        "temperature": Param(0.8, type="number", minimum=0, maximum=2, description="generator sampling"),
        "top_p": Param(0.95, type="number", minimum=0, maximum=1, description="generator sampling"),
        "generator_max_tokens": Param(400, type="integer", minimum=16, description="reply budget of a draft; "
                                      "reasoning models (DeepSeek-R1) need thousands: their trace counts"),
        "refiner_max_tokens": Param(400, type="integer", minimum=16, description="reply budget of a refinement"),
        "plain_text": Param(False, type="boolean", description="one-line text fields bounded by a pattern: for "
                            "small local models that run away (no LaTeX); leave off for production models"),
        "qc_ngram": Param(13, type="integer", minimum=4, maximum=64,
                          description="decontamination n-gram size (normalized tokens)"),
        "qc_threshold": Param(0.8, type="number", exclusiveMinimum=0, maximum=1,
                              description="Jaccard similarity that makes two items near duplicates"),
        "qc_shingle_size": Param(5, type="integer", minimum=1, maximum=32, description="tokens per MinHash shingle "
                                 "(changing it needs a rebuilt dedup index, see docs/qc.md)"),
        "qc_num_perm": Param(128, type="integer", minimum=8, maximum=1024, description="MinHash permutations"),
        "qc_bands": Param(32, type="integer", minimum=1, description="LSH bands (must divide qc_num_perm)"),
        "qc_benchmark_source": Param("local", enum=["local", "hub"], description="benchmark items to decontaminate "
                                     "against: our local editions, or the public ones from the Hub (network)"),
        "qc_force": Param(False, type="boolean", description="redo QC of a run that already has its decisions"),
        # The spend guard (docs/llm.md): null falls back to BOOSTQA_BUDGET__SYNTHESIZE_<RUN|DAY>_<TOKENS|USD>.
        "run_tokens": Param(None, type=["null", "integer"], minimum=0, description="token cap of this run"),
        "run_usd": Param(None, type=["null", "number"], minimum=0, description="USD cap of this run (llm_prices seed)"),
        "day_tokens": Param(None, type=["null", "integer"], minimum=0, description="token cap of all runs today"),
        "day_usd": Param(None, type=["null", "number"], minimum=0, description="USD cap of all runs today"),
    },
    **dag_operations("qa_synthesis"),
    doc_md=__doc__,
) as dag:
    shards = SnapshotSynthesisJobsOperator(
        task_id="snapshot_jobs", run_id=RUN_ID, plan_id="{{ params.plan_id }}", limit="{{ params.limit }}",
        shard_size="{{ params.shard_size }}", budget=BUDGET, **retry_args(TaskKind.LAKE),
    )
    synthesize = SynthesizeShardOperator.partial(
        task_id="synthesize_shard", run_id=RUN_ID, shard_size="{{ params.shard_size }}",
        difficulty_tolerance="{{ params.difficulty_tolerance }}", refine_policy="{{ params.refine_policy }}",
        temperature="{{ params.temperature }}", top_p="{{ params.top_p }}",
        plain_text="{{ params.plain_text }}", generator_max_tokens="{{ params.generator_max_tokens }}",
        refiner_max_tokens="{{ params.refiner_max_tokens }}", budget=BUDGET, pool=LLM_POOLS["generator"],
        execution_timeout=timedelta(hours=6), **retry_args(TaskKind.LLM),
    ).expand(shard=shards.output)
    with TaskGroup("quality_control", tooltip="filters -> decontamination -> exact dedup -> near dedup") as qc:
        QualityControlOperator(
            task_id="filter_decontaminate_dedup", run_id=RUN_ID, ngram="{{ params.qc_ngram }}",
            threshold="{{ params.qc_threshold }}", shingle_size="{{ params.qc_shingle_size }}",
            num_perm="{{ params.qc_num_perm }}", bands="{{ params.qc_bands }}",
            benchmark_source="{{ params.qc_benchmark_source }}", force="{{ params.qc_force }}",
            execution_timeout=timedelta(hours=4), **retry_args(TaskKind.LAKE),
        )
    marts = warehouse_task_group(
        "dbt_synthesis", select=["path:models/staging/qa", "path:models/marts/synthesis", "path:models/staging/llm",
                                 "path:models/marts/llm", "path:models/staging/qc", "int_qa_items_screened",
                                 "path:models/marts/qc"],
    )
    publish = EmptyOperator(task_id="publish_qa", outlets=[assets.QA], **retry_args(TaskKind.CONTROL))
    synthesize >> qc >> marts >> publish
