-- How refinement went per run x strategy x format: kept items by decision, and the draft/refined agreement rate.
with

items as (

    select * from {{ ref('stg_qa__items') }}

),

rejects as (

    select synthesis_run_id, strategy, reason
    from {{ ref('stg_qa__rejects') }}
    where step = 'refine'

),

kept as (

    select
        synthesis_run_id,
        strategy,
        count(*) as kept_items,
        count(*) filter (where is_multiple_choice) as multiple_choice_items,
        {{ count_per_code('refine_decision', 'refine_decision', '') }}

    from items
    group by all

),

dropped as (

    select
        synthesis_run_id,
        strategy,
        count(*) filter (where reason = 'refine_invalid') as refine_invalid,
        count(*) filter (where reason = 'refine_disagreement') as dropped_on_disagreement,
        count(*) filter (where reason = 'refine_unresolved') as unresolved_by_second_sample

    from rejects
    group by all

),

final as (

    select
        coalesce(kept.synthesis_run_id, dropped.synthesis_run_id) as synthesis_run_id,
        coalesce(kept.strategy, dropped.strategy) as strategy,
        coalesce(kept.kept_items, 0) as kept_items,
        coalesce(kept.multiple_choice_items, 0) as multiple_choice_items,
        coalesce(kept.agreed, 0) as agreed,
        coalesce(kept.kept_refined, 0) as kept_refined,
        coalesce(kept.confirmed_by_second_sample, 0) as confirmed_by_second_sample,
        coalesce(dropped.refine_invalid, 0) as refine_invalid,
        coalesce(dropped.dropped_on_disagreement, 0) as dropped_on_disagreement,
        coalesce(dropped.unresolved_by_second_sample, 0) as unresolved_by_second_sample,
        coalesce(kept.agreed, 0) / nullif(
            coalesce(kept.kept_items, 0) + coalesce(dropped.dropped_on_disagreement, 0)
            + coalesce(dropped.unresolved_by_second_sample, 0), 0
        ) as draft_agreement_rate

    from kept
    full outer join dropped using (synthesis_run_id, strategy)

)

select * from final
