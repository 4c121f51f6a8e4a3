-- One row per general-corpus document.
with

source as (

    select * from {{ source('general', 'documents') }}

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
