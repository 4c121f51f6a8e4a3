-- One row per general-corpus document.
with

source as (

    {{ committed_rows('general', 'documents', 'object') }}

),

renamed as (

    select
        doc_id,
        source as general_source,
        text,
        language,
        topic,
        license,
        cast(chars as bigint) as chars

    from source

)

select * from renamed
