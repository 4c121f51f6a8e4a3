-- Once QC has run on a synthesis run, each of its items is kept or has exactly one first reason (never both,
-- never neither), and QC decided nothing about items the run did not synthesize.
with

kept as (

    select synthesis_run_id, item_id, 'kept' as decision from {{ ref('stg_qc__kept') }}

),

first_reasons as (

    select synthesis_run_id, item_id, 'removed' as decision
    from {{ ref('stg_qc__removals') }}
    where reason_rank = 1

),

decisions as (

    select * from kept
    union all
    select * from first_reasons

),

per_item as (

    select synthesis_run_id, item_id, count(*) as decisions
    from decisions
    group by all

),

checked as (

    select
        items.synthesis_run_id,
        items.item_id,
        coalesce(per_item.decisions, 0) as decisions,
        true as synthesized

    from {{ ref('stg_qa__items') }} as items
    inner join (select distinct synthesis_run_id from decisions) as runs using (synthesis_run_id)
    left join per_item using (synthesis_run_id, item_id)

    union all

    select per_item.synthesis_run_id, per_item.item_id, per_item.decisions, false as synthesized
    from per_item
    anti join {{ ref('stg_qa__items') }} as items using (synthesis_run_id, item_id)

)

select * from checked
where decisions != 1 or not synthesized
