"""Connection ids, pools and defaults the DAGs refer to: plain values, importable without Airflow."""

from __future__ import annotations

# No Airflow import here, ever: the dev stack (boostqa_dev) registers these connections and pools from this module.

S3_CONN_ID = "boostqa_s3"
WAREHOUSE_CONN_ID = "boostqa_warehouse"
RAY_CONN_ID = "boostqa_ray"  # the Ray cluster's Jobs API (http): the heavy data steps run there
ALERTS_CONN_ID = "boostqa_alerts"  # optional: webhook URL (password) and email recipients (extra) for on-call alerts
LLM_ROLES = ("annotator", "generator", "refiner")
# the solver (solve-rate difficulty) calls from the synthesis shards' generator pool: it has a connection, no pool
LLM_CONN_IDS = {role: f"boostqa_llm_{role}" for role in (*LLM_ROLES, "solver")}
# optional: an OpenAI-compatible server (vLLM) serving a model under evaluation, for its generative benchmarks
LLM_EVAL_CONN_ID = "boostqa_llm_eval"
# optional: a postgres connection for the LLM response cache shared by workers; undefined = the SQLite file
LLM_CACHE_CONN_ID = "boostqa_llm_cache"

DBT_POOL = "boostqa_dbt"
EVAL_POOL = "boostqa_eval"
LLM_POOLS = {role: f"boostqa_llm_{role}" for role in LLM_ROLES}

# name -> (slots, description); DuckDB has one writer, hence one dbt slot.
POOLS: dict[str, tuple[int, str]] = {
    DBT_POOL: (1, "dbt writes the single-writer DuckDB warehouse: one task at a time"),
    EVAL_POOL: (1, "benchmark evaluation: each task runs a model on every core (or the eval GPU)"),
    # Synthesis shards hold the generator slot and call generator, annotator and refiner in turn; annotate tasks
    # hold the annotator slot; the refiner pool is for refine-only tasks (none yet). See docs/runbook.md "Pools".
    LLM_POOLS["generator"]: (4, "synthesis shards (each calls the generator, annotator and refiner roles in turn)"),
    LLM_POOLS["annotator"]: (4, "annotate tasks (the annotator role)"),
    LLM_POOLS["refiner"]: (4, "refine-only tasks (none yet: synthesis shards hold the generator slot)"),
}

OWNER = "boostqa"
