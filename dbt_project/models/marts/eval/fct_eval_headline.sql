-- One row per evaluated model: the headline (average of MMLU and CMMLU, null until both are scored) and the
-- average over every benchmark scored, each against the baseline in points and relative %.
with

scores as (

    select * from {{ ref('fct_eval_scores') }}

),

per_model as (

    select
        model_id,
        bool_or(is_baseline) as is_baseline,
        max(evaluated_at) as evaluated_at,
        case when count(*) filter (where in_headline) = 2
            then avg(metric_value) filter (where in_headline) end as headline,
        avg(metric_value) as average_12,
        count(*) as benchmarks

    from scores
    group by model_id

),

baseline as (

    select * from per_model where is_baseline

),

final as (

    select
        per_model.model_id,
        per_model.is_baseline,
        per_model.evaluated_at,
        per_model.benchmarks,
        per_model.headline,
        baseline.headline as baseline_headline,
        100 * (per_model.headline - baseline.headline) as headline_delta_points,
        100 * (per_model.headline - baseline.headline) / nullif(baseline.headline, 0) as headline_relative_pct,
        per_model.average_12,
        baseline.average_12 as baseline_average_12,
        100 * (per_model.average_12 - baseline.average_12) as average_12_delta_points

    from per_model
    left join baseline on true

)

select * from final
