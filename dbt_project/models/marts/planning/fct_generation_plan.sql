-- How many new items to synthesize per target bucket and strategy: target - existing, scaled to the budget.
-- multi_grade applies to STEM buckets; high_difficulty to target difficulty >= 2 (from seeds one band lower).
with

ratios as (

    select * from {{ ref('fct_mixing_ratios') }}

),

policy as (

    select * from {{ ref('mixing_policy') }} where is_active

),

existing as (

    select discipline_id, difficulty, count(*) as existing_items
    from {{ ref('int_seeds_annotated') }}
    where annotation_status = 'annotated'
    group by 1, 2

),

targets as (

    select
        ratios.discipline_id,
        ratios.category_id,
        ratios.difficulty,
        ratios.target_share,
        ratios.policy_version,
        cast(round(ratios.target_share * {{ var('corpus_target_items') }}) as integer) as target_items,
        coalesce(existing.existing_items, 0) as existing_items,
        ratios.category_id = 'stem' or ratios.difficulty >= 2 as is_plannable

    from ratios
    left join existing
        on ratios.discipline_id = existing.discipline_id
        and ratios.difficulty = existing.difficulty

),

deficits as (

    select *, greatest(target_items - existing_items, 0) as deficit_items
    from targets
    where is_plannable

),

budgeted as (

    select
        *,
        case
            when sum(deficit_items) over () > {{ var('generation_budget_items') }}
                then cast(floor(deficit_items * {{ var('generation_budget_items') }} / sum(deficit_items) over ())
                          as integer)
            else deficit_items
        end as bucket_quota

    from deficits

),

split as (

    select
        budgeted.*,
        case
            when category_id <> 'stem' then 0
            when difficulty = 1 then bucket_quota
            else cast(floor(bucket_quota * policy.multi_grade_share) as integer)
        end as multi_grade_quota

    from budgeted
    cross join policy

),

by_strategy as (

    select *, 'multi_grade' as strategy, multi_grade_quota as quota from split
    union all
    select *, 'high_difficulty' as strategy, bucket_quota - multi_grade_quota as quota from split

),

final as (

    select
        '{{ var("plan_id") }}' as plan_id,
        policy_version,
        discipline_id,
        category_id,
        difficulty as target_difficulty,
        strategy,
        quota,
        target_items,
        existing_items,
        deficit_items

    from by_strategy
    where quota > 0

)

select * from final
