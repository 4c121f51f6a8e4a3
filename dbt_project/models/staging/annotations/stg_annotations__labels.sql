-- One row per item per annotate run per sample (several samples when the run asked for them).
with

source as (

    {{ committed_rows('annotations', 'labels', 'shard_marker:annotations') }}

),

renamed as (

    select
        -- ids
        item_id,
        run_id as annotate_run_id,
        request_id,
        -- parts written before samples existed have no column: they held one sample
        coalesce(cast(sample_index as integer), 0) as sample_index,

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
