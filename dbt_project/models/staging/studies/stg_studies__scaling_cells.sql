-- One row per trained arm of every published scaling sweep.
with

source as (

    {{ committed_rows('studies', 'scaling_cells', 'object') }}

),

renamed as (

    select
        run_id as sweep_run_id,
        cell_id,
        training_run_id,
        arm,
        model_size,
        base_id,
        nullif(base_model, '') as base_model,
        mixture_version,
        cast(hidden_size as integer) as hidden_size,
        cast(layers as integer) as layers,
        cast(parameters as bigint) as parameters,
        cast(non_embedding_parameters as bigint) as non_embedding_parameters,
        cast(base_tokens as bigint) as base_tokens,
        cast(boostqa_tokens as bigint) as boostqa_tokens,
        cast(general_tokens as bigint) as general_tokens,
        cast(tokens as bigint) as tokens,
        cast(steps as bigint) as steps,
        cast(boostqa_passes as double) as boostqa_passes,
        cast(train_seconds as double) as train_seconds,
        cast(wall_seconds as double) as wall_seconds,
        cast(loss_last as double) as loss_last,
        cast(heldout_boostqa_before as double) as heldout_boostqa_before,
        cast(heldout_boostqa_after as double) as heldout_boostqa_after,
        cast(heldout_general_before as double) as heldout_general_before,
        cast(heldout_general_after as double) as heldout_general_after

    from source

)

select * from renamed
