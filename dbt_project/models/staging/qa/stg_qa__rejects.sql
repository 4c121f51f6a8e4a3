-- One row per synthesis job that did not become an item, with the step and reason.
with

source as (

    {{ committed_rows('qa', 'rejects', 'shard_marker:qa') }}

),

renamed as (

    select
        item_id,
        run_id as synthesis_run_id,
        plan_id,
        seed_id,
        strategy,
        discipline_id,
        cast(target_difficulty as integer) as target_difficulty,
        cast(verified_difficulty as integer) as verified_difficulty,
        -- n-th job of its seed x strategy x bucket (its sampling seed); null in parts written before it was recorded
        cast(replica as integer) as replica,
        step,
        reason,
        detail,
        raw_output,
        model,
        request_id

    from source

)

select * from renamed
