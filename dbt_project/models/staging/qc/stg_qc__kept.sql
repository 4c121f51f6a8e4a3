-- One row per synthesized item that passed QC.
with

source as (

    select * from {{ source('qc', 'kept') }}

),

renamed as (

    select
        item_id,
        run_id as synthesis_run_id,
        exact_key

    from source

)

select * from renamed
