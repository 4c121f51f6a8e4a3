-- Every synthesis job that ran to an outcome (an item or a reject) in any run, once: the plan never issues these
-- job ids again, and continues each seed x strategy x bucket's replica numbering after the highest one done.
with

items as (

    select
        item_id as job_id,
        synthesis_run_id,
        seed_id,
        strategy,
        discipline_id,
        target_difficulty,
        sampling_seed as replica,
        'item' as outcome
    from {{ ref('stg_qa__items') }}

),

rejects as (

    select
        item_id as job_id,
        synthesis_run_id,
        seed_id,
        strategy,
        discipline_id,
        target_difficulty,
        replica,
        'reject' as outcome
    from {{ ref('stg_qa__rejects') }}

),

outcomes as (

    select * from items
    union all
    select * from rejects

),

final as (

    select *
    from outcomes
    qualify row_number() over (partition by job_id order by synthesis_run_id, outcome) = 1

)

select * from final
