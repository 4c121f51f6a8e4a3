-- The synthesis jobs as parquet beside the plan, where the qa_synthesis DAG reads them.
{{ config(
    materialized='external',
    location="s3://" ~ env_var('BOOSTQA_LAKE_BUCKET', 'boostqa')
        ~ "/plans/plan_id=" ~ env_var('BOOSTQA_PLAN_ID', var('plan_id')) ~ "/synthesis_jobs.parquet",
    format='parquet'
) }}

select * from {{ ref('fct_synthesis_jobs') }}
order by job_order
