-- How many new items to synthesize per target bucket and strategy: target - what the corpus already holds there
-- (annotated seeds, plus QC-kept synthesized items when var('plan_counts_synthesized')), scaled to the budget. The
-- plan of a build is named by env var BOOSTQA_PLAN_ID, which Airflow sets per warehouse_build run (var('plan_id')
-- when unset: a hand-run build).
-- multi_grade applies to STEM buckets; high_difficulty to target difficulty >= 2 (from seeds one band lower).
-- With var('plan_difficulty') = 'calibrated', an item counts in the band its label means in its discipline by solve
-- rates (fct_difficulty_calibration), where a calibration exists; else, and by default, in its labelled band.
with

ratios as (

    select * from {{ ref('fct_mixing_ratios') }}

),

policy as (

    select * from {{ ref('mixing_policy') }} where is_active

),

calibration as (

    select discipline_id, labelled_difficulty, calibrated_difficulty
    from {{ ref('fct_difficulty_calibration') }}
    {%- if var('plan_difficulty') != 'calibrated' %}
    where false
    {%- endif %}

),

seeds_held as (

    select seeds.discipline_id, coalesce(calibration.calibrated_difficulty, seeds.difficulty) as difficulty,
        count(*) as seed_items
    from {{ ref('int_seeds_annotated') }} as seeds
    left join calibration
        on seeds.discipline_id = calibration.discipline_id and seeds.difficulty = calibration.labelled_difficulty
    where seeds.annotation_status = 'annotated'
    group by 1, 2

),

synthesized_held as (

    -- QC-kept items count in the bucket they were verified at (the target when no check ran)
    select passed.discipline_id,
        coalesce(calibration.calibrated_difficulty, passed.verified_difficulty, passed.target_difficulty) as difficulty,
        count(*) as synthesized_items
    from {{ ref('fct_qc_passed_items') }} as passed
    left join calibration
        on passed.discipline_id = calibration.discipline_id
        and coalesce(passed.verified_difficulty, passed.target_difficulty) = calibration.labelled_difficulty
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
        coalesce(seeds_held.seed_items, 0) as seed_items,
        coalesce(synthesized_held.synthesized_items, 0) as synthesized_items,
        {% if var('plan_counts_synthesized') %}
        coalesce(seeds_held.seed_items, 0) + coalesce(synthesized_held.synthesized_items, 0) as existing_items,
        {% else %}
        coalesce(seeds_held.seed_items, 0) as existing_items,
        {% endif %}
        ratios.category_id = 'stem' or ratios.difficulty >= 2 as is_plannable

    from ratios
    left join seeds_held
        on ratios.discipline_id = seeds_held.discipline_id
        and ratios.difficulty = seeds_held.difficulty
    left join synthesized_held
        on ratios.discipline_id = synthesized_held.discipline_id
        and ratios.difficulty = synthesized_held.difficulty

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
        '{{ env_var('BOOSTQA_PLAN_ID', var('plan_id')) }}' as plan_id,
        policy_version,
        discipline_id,
        category_id,
        difficulty as target_difficulty,
        strategy,
        quota,
        target_items,
        seed_items,
        synthesized_items,
        existing_items,
        deficit_items

    from by_strategy
    where quota > 0

)

select * from final
