-- Every synthesized item with its QC decision: kept, removed (with its first reason) or pending (QC has not run
-- on its synthesis run yet).
with

items as (

    select * from {{ ref('stg_qa__items') }}

),

kept as (

    select * from {{ ref('stg_qc__kept') }}

),

first_removals as (

    select * from {{ ref('stg_qc__removals') }}
    where reason_rank = 1

),

reason_counts as (

    select synthesis_run_id, item_id, count(*) as removal_reasons
    from {{ ref('stg_qc__removals') }}
    group by all

),

checked_runs as (

    select synthesis_run_id from kept
    union
    select synthesis_run_id from first_removals

),

screened as (

    select
        items.item_id,
        items.synthesis_run_id,
        items.plan_id,
        items.strategy,
        items.discipline_id,
        items.category_id,
        items.target_difficulty,
        items.verified_difficulty,
        items.language,
        case
            when kept.item_id is not null then 'kept'
            when first_removals.item_id is not null then 'removed'
            when checked_runs.synthesis_run_id is not null then 'missing'
            else 'pending'
        end as qc_status,
        first_removals.qc_step as first_qc_step,
        first_removals.reason as first_reason,
        first_removals.detail as first_reason_detail,
        first_removals.duplicate_of,
        first_removals.similarity as duplicate_similarity,
        first_removals.benchmark,
        first_removals.benchmark_item_id,
        coalesce(reason_counts.removal_reasons, 0) as removal_reasons

    from items
    left join kept using (synthesis_run_id, item_id)
    left join first_removals using (synthesis_run_id, item_id)
    left join reason_counts using (synthesis_run_id, item_id)
    left join checked_runs using (synthesis_run_id)

)

select * from screened
