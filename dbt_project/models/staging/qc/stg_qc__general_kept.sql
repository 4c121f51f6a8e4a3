-- One row per general-corpus document that passed QC (the general corpus' QC run: filters, decontamination,
-- exact and near dedup against itself and every BoostQA item already indexed).
with

source as (

    {{ committed_rows('qc', 'kept', 'qc_marker') }}
    where run_id = '{{ var("general_qc_run") }}'

),

renamed as (

    select
        item_id as doc_id,
        exact_key

    from source

)

select * from renamed
