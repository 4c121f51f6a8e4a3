-- The deficiency probe this plan was built from, beside the plan in the lake: publishing a plan that an
-- evaluation alone triggered compares it with the latest plan's probe, so the loop re-plans only on a changed probe.
{{ config(
    materialized='external',
    location="s3://" ~ env_var('BOOSTQA_LAKE_BUCKET', 'boostqa')
        ~ "/plans/plan_id=" ~ env_var('BOOSTQA_PLAN_ID', var('plan_id')) ~ "/deficiency_probe.parquet",
    format='parquet'
) }}

select
    '{{ env_var('BOOSTQA_PLAN_ID', var('plan_id')) }}' as plan_id,
    cast(model_id as varchar) as model_id,
    cast(discipline_id as varchar) as discipline_id,
    cast(difficulty as integer) as difficulty,
    cast(eval_items as integer) as eval_items,
    cast(accuracy as double) as accuracy,
    cast(deficiency as double) as deficiency

from {{ ref('fct_deficiency_probe') }}
order by discipline_id, difficulty
