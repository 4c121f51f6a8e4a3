-- Accuracy of every evaluated model per discipline x difficulty bucket, over all benchmarks' items in the bucket
-- (multiple choice by acc, generative by exact match).
with

items as (

    select * from {{ ref('stg_eval__items') }}

),

final as (

    select
        model_id,
        discipline_id,
        difficulty,
        count(*) as eval_items,
        count(*) filter (where correct) as correct_items,
        avg(case when correct then 1.0 else 0.0 end) as accuracy,
        count(distinct benchmark) as benchmarks

    from items
    group by all

)

select * from final
