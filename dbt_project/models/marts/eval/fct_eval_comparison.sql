-- Each evaluated model against the baseline, per benchmark: absolute points and relative change of the primary
-- metric. comparable is false when the two runs scored different item counts or few-shot settings.
with

scores as (

    select * from {{ ref('fct_eval_scores') }}

),

baseline as (

    select * from scores where is_baseline

),

final as (

    select
        scores.model_id,
        baseline.model_id as baseline_model_id,
        scores.benchmark,
        scores.display_name,
        scores.in_headline,
        scores.metric,
        scores.items,
        scores.metric_value as model_value,
        baseline.metric_value as baseline_value,
        100 * (scores.metric_value - baseline.metric_value) as delta_points,
        100 * (scores.metric_value - baseline.metric_value) / nullif(baseline.metric_value, 0) as relative_pct,
        scores.items = baseline.items and scores.num_fewshot = baseline.num_fewshot as comparable,
        scores.evaluated_at

    from scores
    inner join baseline using (benchmark)
    where not scores.is_baseline

)

select * from final
