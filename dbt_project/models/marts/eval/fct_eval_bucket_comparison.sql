-- Each evaluated model against the baseline per discipline x difficulty bucket, on the items both scored.
with

items as (

    select * from {{ ref('stg_eval__items') }}

),

baseline as (

    select * from items where model_id = '{{ var("eval_baseline_model_id") }}'

),

paired as (

    select
        items.model_id,
        items.discipline_id,
        items.difficulty,
        case when items.correct then 1.0 else 0.0 end as model_correct,
        case when baseline.correct then 1.0 else 0.0 end as baseline_correct

    from items
    inner join baseline using (item_id)
    where items.model_id != baseline.model_id

),

final as (

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

)

select * from final
