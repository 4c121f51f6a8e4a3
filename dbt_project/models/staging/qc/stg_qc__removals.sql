-- One row per (item, reason) QC removed an item for; reason_rank 1 is the item's first reason.
with

source as (

    {{ committed_rows('qc', 'removals', 'qc_marker') }}

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
    -- the general corpus' QC run has its own model (stg_qc__general_kept)
    where run_id != '{{ var("general_qc_run") }}'

)

select * from renamed
