-- One row per evaluated model: the headline (average of MMLU and CMMLU, null until both are scored) and the
-- average over every benchmark scored, each against the baseline in points and relative %, with a paired bootstrap
-- confidence interval of the change (each replicate averages the benchmarks' resampled changes) and within_noise
-- when that interval holds 0.
with

scores as (

    select * from {{ ref('fct_eval_scores') }}

),

per_model as (

    select
        model_id,
        bool_or(is_baseline) as is_baseline,
        bool_or({{ is_study_model('model_id') }}) as is_study,
        max(evaluated_at) as evaluated_at,
        case when count(*) filter (where in_headline) = 2
            then avg(metric_value) filter (where in_headline) end as headline,
        case when count(*) filter (where in_headline) = 2
            then sqrt(sum(metric_stderr * metric_stderr) filter (where in_headline)) / 2 end as headline_stderr,
        avg(metric_value) as average_12,
        count(*) as benchmarks

    from scores
    group by model_id

),

baseline as (

    select * from per_model where is_baseline

),

replicates as (

    select
        model_id,
        replicate,
        case when count(*) filter (where in_headline) = 2
            then avg(mean_delta) filter (where in_headline) end as headline_delta,
        avg(mean_delta) as average_delta

    from {{ ref('int_eval_benchmark_bootstrap') }}
    group by all

),

intervals as (

    select
        model_id,
        {{ ci_low_points('headline_delta') }} as headline_ci_low_points,
        {{ ci_high_points('headline_delta') }} as headline_ci_high_points,
        {{ ci_low_points('average_delta') }} as average_12_ci_low_points,
        {{ ci_high_points('average_delta') }} as average_12_ci_high_points

    from replicates
    group by all

),

final as (

    select
        per_model.model_id,
        per_model.is_baseline,
        per_model.is_study,
        per_model.evaluated_at,
        per_model.benchmarks,
        per_model.headline,
        per_model.headline_stderr,
        baseline.headline as baseline_headline,
        100 * (per_model.headline - baseline.headline) as headline_delta_points,
        100 * (per_model.headline - baseline.headline) / nullif(baseline.headline, 0) as headline_relative_pct,
        intervals.headline_ci_low_points,
        intervals.headline_ci_high_points,
        coalesce(intervals.headline_ci_low_points <= 0 and intervals.headline_ci_high_points >= 0, true)
            as headline_within_noise,
        per_model.average_12,
        baseline.average_12 as baseline_average_12,
        100 * (per_model.average_12 - baseline.average_12) as average_12_delta_points,
        intervals.average_12_ci_low_points,
        intervals.average_12_ci_high_points,
        coalesce(intervals.average_12_ci_low_points <= 0 and intervals.average_12_ci_high_points >= 0, true)
            as average_12_within_noise

    from per_model
    left join baseline on true
    left join intervals on intervals.model_id = per_model.model_id

)

select * from final
