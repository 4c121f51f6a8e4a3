-- The scaling sweep's grid: one row per (sweep, base, BoostQA tokens), the boostqa arm beside its control arm (the
-- same base, the same tokens, general text only). A gain is the control arm's held-out loss minus the boostqa arm's,
-- in nats per token: positive on the BoostQA set means the BoostQA tokens taught what general text did not; negative
-- on the general set is what they cost there. Compute follows 6 N D with N the non-embedding parameters (the base's
-- pre-training compute is its "initial FLOPs").
with

cells as (

    select * from {{ ref('stg_studies__scaling_cells') }}

),

boostqa_arm as (

    select * from cells where arm = 'boostqa'

),

control_arm as (

    select * from cells where arm = 'control'

),

paired as (

    select
        boostqa_arm.sweep_run_id,
        boostqa_arm.mixture_version,
        boostqa_arm.model_size,
        boostqa_arm.base_id,
        boostqa_arm.base_model,
        boostqa_arm.hidden_size,
        boostqa_arm.layers,
        boostqa_arm.parameters,
        boostqa_arm.non_embedding_parameters,
        boostqa_arm.base_tokens,
        boostqa_arm.boostqa_tokens,
        boostqa_arm.general_tokens,
        boostqa_arm.tokens,
        control_arm.tokens as control_tokens,
        boostqa_arm.boostqa_passes,
        boostqa_arm.wall_seconds as boostqa_wall_seconds,
        control_arm.wall_seconds as control_wall_seconds,
        boostqa_arm.heldout_boostqa_before,
        boostqa_arm.heldout_boostqa_after,
        control_arm.heldout_boostqa_after as control_heldout_boostqa_after,
        boostqa_arm.heldout_general_before,
        boostqa_arm.heldout_general_after,
        control_arm.heldout_general_after as control_heldout_general_after

    from boostqa_arm
    inner join control_arm
        on boostqa_arm.sweep_run_id = control_arm.sweep_run_id
        and boostqa_arm.base_id = control_arm.base_id
        and regexp_replace(boostqa_arm.cell_id, '-boostqa$', '') = regexp_replace(control_arm.cell_id, '-control$', '')

),

final as (

    select
        *,
        -- double: 6 N D overflows bigint at production sizes (8B parameters x 10T tokens)
        6 * cast(non_embedding_parameters as double) * base_tokens as base_flops,
        6 * cast(non_embedding_parameters as double) * tokens as cell_flops,
        round(control_heldout_boostqa_after - heldout_boostqa_after, 6) + 0.0 as gain_boostqa,
        round(control_heldout_general_after - heldout_general_after, 6) + 0.0 as gain_general

    from paired

)

select * from final
