-- One row per arm of every published anneal probe.
with

source as (

    {{ committed_rows('studies', 'anneal_arms', 'object') }}

),

renamed as (

    select
        run_id as probe_run_id,
        arm,
        training_run_id,
        eval_model_id,
        mixture_version,
        reference_version,
        slice_discipline,
        cast(slice_difficulty as integer) as slice_difficulty,
        slice_strategy,
        base_model,
        cast(candidate_share as double) as candidate_share,
        cast(tokens as bigint) as tokens,
        cast(candidate_tokens as bigint) as candidate_tokens,
        cast(candidate_passes as double) as candidate_passes,
        cast(steps as bigint) as steps,
        cast(wall_seconds as double) as wall_seconds,
        cast(loss_last as double) as loss_last,
        cast(heldout_boostqa_before as double) as heldout_boostqa_before,
        cast(heldout_boostqa_after as double) as heldout_boostqa_after,
        cast(heldout_general_before as double) as heldout_general_before,
        cast(heldout_general_after as double) as heldout_general_after

    from source

)

select * from renamed
