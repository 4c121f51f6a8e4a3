-- Each evaluated model against the baseline, per benchmark: absolute points and relative change of the primary
-- metric, both standard errors, and a paired bootstrap confidence interval of the change over the items both scored
-- (within_noise when it holds 0). comparable is false when the two runs scored different item counts or few-shot
-- settings.
with

scores as (

    select * from {{ ref('fct_eval_scores') }}

),

baseline as (

    select * from scores where is_baseline

),

intervals as (

    select
        model_id,
        benchmark,
        {{ ci_low_points('mean_delta') }} as delta_ci_low_points,
        {{ ci_high_points('mean_delta') }} as delta_ci_high_points

    from {{ ref('int_eval_benchmark_bootstrap') }}
    group by all

),

shared as (

    select model_id, benchmark, count(*) as shared_items
    from {{ ref('int_eval_paired_items') }}
    group by all

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
        scores.metric_stderr as model_stderr,
        baseline.metric_stderr as baseline_stderr,
        100 * (scores.metric_value - baseline.metric_value) as delta_points,
        100 * (scores.metric_value - baseline.metric_value) / nullif(baseline.metric_value, 0) as relative_pct,
        coalesce(shared.shared_items, 0) as shared_items,
        intervals.delta_ci_low_points,
        intervals.delta_ci_high_points,
        coalesce(intervals.delta_ci_low_points <= 0 and intervals.delta_ci_high_points >= 0, true) as within_noise,
        scores.items = baseline.items and scores.num_fewshot = baseline.num_fewshot as comparable,
        scores.evaluated_at

    from scores
    inner join baseline using (benchmark)
    left join intervals
        on intervals.model_id = scores.model_id
        and intervals.benchmark = scores.benchmark
    left join shared
        on shared.model_id = scores.model_id
        and shared.benchmark = scores.benchmark
    where not scores.is_baseline

)

select * from final
