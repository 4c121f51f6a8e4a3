-- One row per synthesized item per synthesis run.
with

source as (

    {{ committed_rows('qa', 'items', 'shard_marker:qa') }}

),

renamed as (

    select
        -- ids
        item_id,
        run_id as synthesis_run_id,
        plan_id,
        seed_id,

        -- bucket
        strategy,
        discipline_id,
        category_id,
        cast(target_difficulty as integer) as target_difficulty,
        cast(verified_difficulty as integer) as verified_difficulty,
        language,

        -- content
        question,
        options,
        options is not null as is_multiple_choice,
        draft_answer,
        draft_option,
        refined_answer,
        refined_option,
        answer_agreement as is_answer_agreed,
        refine_decision,
        reasoning,

        -- lineage
        generator_model,
        refiner_model,
        annotator_model,
        generator_prompt_version,
        refiner_prompt_version,
        verify_prompt_version,
        temperature,
        top_p,
        sampling_seed,
        generator_request_id,
        refiner_request_id,
        verify_request_id,
        prompt_tokens,
        completion_tokens

    from source

)

select * from renamed
