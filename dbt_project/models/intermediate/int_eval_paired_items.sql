-- Every evaluated model's answer to a benchmark item beside the baseline's answer to the same item: the unit the
-- paired bootstrap of every before/after comparison resamples. value is the benchmark's primary metric for the item
-- (acc_norm reads correct_norm; acc and exact_match read correct); correct is plain accuracy (the bucket marts').
with

items as (

    select * from {{ ref('stg_eval__items') }}

),

benchmarks as (

    select * from {{ ref('eval_benchmarks') }}

),

scored as (

    select
        items.model_id,
        items.benchmark,
        items.item_id,
        items.discipline_id,
        items.difficulty,
        benchmarks.in_headline,
        case when coalesce(case when benchmarks.primary_metric = 'acc_norm' then items.correct_norm end,
                           items.correct) then 1.0 else 0.0 end as value,
        case when items.correct then 1.0 else 0.0 end as correct

    from items
    inner join benchmarks using (benchmark)

),

baseline as (

    select * from scored where model_id = '{{ var("eval_baseline_model_id") }}'

),

final as (

    select
        scored.model_id,
        baseline.model_id as baseline_model_id,
        scored.benchmark,
        scored.item_id,
        scored.discipline_id,
        scored.difficulty,
        scored.in_headline,
        scored.value as model_value,
        baseline.value as baseline_value,
        scored.value - baseline.value as value_delta,
        scored.correct as model_correct,
        baseline.correct as baseline_correct,
        scored.correct - baseline.correct as correct_delta

    from scored
    inner join baseline using (benchmark, item_id)
    where scored.model_id != baseline.model_id

)

select * from final
