-- One row per seed per source partition (a source re-ingested on a later date appears once per date).
with

source as (

    {{ committed_rows('seeds', 'questions', 'seed_manifest') }}

),

renamed as (

    select
        -- ids
        seed_id,
        source as source_name,
        source_row_id,
        row_number as source_row_number,

        -- content
        question,
        options,
        answer,
        options is not null as is_multiple_choice,
        coalesce(len(options), 0) as option_count,
        length(question) as question_chars,

        -- labels from the source
        subject_hint,
        cast(difficulty_hint as integer) as difficulty_hint,
        language,
        license,

        -- lineage
        cast(ingest_date as date) as ingest_date,
        run_id,
        schema_version

    from source

)

select * from renamed
