-- One row per quarantined source row per ingest run.
with

source as (

    {{ committed_rows('seeds', 'quarantined_rows', 'ingest_quarantine_manifest') }}

),

renamed as (

    select
        -- ids
        md5(concat_ws('|', run_id, source, cast(row_number as varchar))) as quarantined_row_id,
        run_id,
        stage,
        source as source_name,
        source_row_id,
        row_number as source_row_number,
        source_file,
        cast(source_line as bigint) as source_line,

        -- why
        reason,
        detail,
        raw_record,

        cast(ingest_date as date) as ingest_date,
        schema_version

    from source

)

select * from renamed
