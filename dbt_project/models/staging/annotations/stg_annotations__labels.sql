-- One row per item per annotate run.
with

source as (

    select * from {{ source('annotations', 'labels') }}

),

renamed as (

    select
        -- ids
        item_id,
        run_id as annotate_run_id,
        request_id,

        -- labels
        category as category_id,
        discipline_id,
        cast(difficulty as integer) as difficulty,
        grade_band,
        rationale,

        -- lineage
        annotator_model,
        prompt_version,
        taxonomy_version

    from source

)

select * from renamed
