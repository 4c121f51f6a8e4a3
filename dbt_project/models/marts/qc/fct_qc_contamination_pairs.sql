-- Audit of decontamination: every synthesized item removed for overlapping a benchmark item, with the match.
with

removals as (

    select * from {{ ref('stg_qc__removals') }}
    where qc_step = 'decontaminate'

),

items as (

    select synthesis_run_id, item_id, question, strategy, discipline_id, target_difficulty
    from {{ ref('stg_qa__items') }}

),

paired as (

    select
        removals.synthesis_run_id,
        removals.item_id,
        removals.benchmark,
        removals.benchmark_item_id,
        removals.detail,
        items.strategy,
        items.discipline_id,
        items.target_difficulty,
        items.question

    from removals
    left join items using (synthesis_run_id, item_id)

)

select * from paired
