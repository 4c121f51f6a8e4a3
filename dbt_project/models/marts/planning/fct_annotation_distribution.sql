-- Annotated seeds per category x discipline x difficulty: items, approximate tokens and share of items.
with

seeds as (

    select * from {{ ref('int_seeds_annotated') }} where annotation_status = 'annotated'

),

counted as (

    select
        category_id,
        discipline_id,
        difficulty,
        count(*) as items,
        sum(approx_tokens) as approx_tokens

    from seeds
    group by 1, 2, 3

),

final as (

    select
        *,
        items / sum(items) over () as item_share

    from counted

)

select * from final
