-- Agreement between annotations of the same item (several runs, samples or models); empty with one per item.
with

labels as (

    select * from {{ ref('stg_annotations__labels') }}

),

per_item as (

    select
        item_id,
        count(*) as annotations,
        count(distinct discipline_id) as distinct_disciplines,
        count(distinct difficulty) as distinct_difficulties,
        max(difficulty) - min(difficulty) as difficulty_spread

    from labels
    group by 1
    having count(*) > 1

),

final as (

    select
        count(*) as items_with_several_annotations,
        avg(case when distinct_disciplines = 1 then 1.0 else 0.0 end) as discipline_agreement_rate,
        avg(case when distinct_difficulties = 1 then 1.0 else 0.0 end) as difficulty_agreement_rate,
        avg(difficulty_spread) as mean_difficulty_spread

    from per_item

)

select * from final
