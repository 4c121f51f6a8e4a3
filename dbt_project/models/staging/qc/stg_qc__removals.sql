-- One row per (item, reason) QC removed an item for; reason_rank 1 is the item's first reason.
with

source as (

    select * from {{ source('qc', 'removals') }}

),

renamed as (

    select
        item_id,
        run_id as synthesis_run_id,
        step as qc_step,
        reason,
        cast(rank as integer) as reason_rank,
        detail,
        duplicate_of,
        similarity,
        benchmark,
        benchmark_item_id

    from source

)

select * from renamed
