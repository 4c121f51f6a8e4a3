-- Each evaluated model against the baseline per discipline x difficulty bucket, on the items both scored (plain
-- accuracy over every benchmark's items in the bucket), with a paired bootstrap confidence interval of the change
-- and within_noise when it holds 0.
with

paired as (

    select * from {{ ref('int_eval_paired_items') }}

),

replicates as (

    {{ paired_bootstrap(ref('int_eval_paired_items'), ['model_id', 'discipline_id', 'difficulty'], 'correct_delta') }}

),

intervals as (

    select
        model_id,
        discipline_id,
        difficulty,
        {{ ci_low_points('mean_delta') }} as delta_ci_low_points,
        {{ ci_high_points('mean_delta') }} as delta_ci_high_points

    from replicates
    group by all

),

buckets as (

    select
        model_id,
        discipline_id,
        difficulty,
        count(*) as eval_items,
        avg(baseline_correct) as baseline_accuracy,
        avg(model_correct) as model_accuracy,
        100 * (avg(model_correct) - avg(baseline_correct)) as delta_points

    from paired
    group by all

),

final as (

    select
        buckets.*,
        intervals.delta_ci_low_points,
        intervals.delta_ci_high_points,
        coalesce(intervals.delta_ci_low_points <= 0 and intervals.delta_ci_high_points >= 0, true) as within_noise

    from buckets
    left join intervals using (model_id, discipline_id, difficulty)

)

select * from final
