-- One row per item whose annotation stayed invalid, per annotate run.
with

source as (

    {{ committed_rows('annotations', 'invalid_outputs', 'shard_marker:annotations') }}

),

renamed as (

    select
        item_id,
        run_id as annotate_run_id,
        stage,
        reason,
        detail,
        raw_output,
        model as annotator_model,
        request_id,
        prompt_version

    from source

)

select * from renamed
