-- The generation plan as parquet in the lake, where the synthesis DAG reads it (Python never reads DuckDB).
{{ config(
    materialized='external',
    location="s3://" ~ env_var('BOOSTQA_LAKE_BUCKET', 'boostqa')
        ~ "/plans/plan_id=" ~ env_var('BOOSTQA_PLAN_ID', var('plan_id')) ~ "/generation_plan.parquet",
    format='parquet'
) }}

select * from {{ ref('fct_generation_plan') }}
