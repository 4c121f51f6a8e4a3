-- One row per synthesized item that passed QC.
with

source as (

    {{ committed_rows('qc', 'kept', 'qc_marker') }}

),

renamed as (

    select
        item_id,
        run_id as synthesis_run_id,
        exact_key

    from source
    -- the general corpus' QC run has its own model (stg_qc__general_kept)
    where run_id != '{{ var("general_qc_run") }}'

)

select * from renamed
