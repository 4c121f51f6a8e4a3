-- One row per scored benchmark item of every evaluated model.
with

source as (

    {{ committed_rows('eval', 'items', 'object') }}

),

renamed as (

    select
        model_id,
        eval_run_id,
        -- the model's training run, its mixture and its content identity (null for rows written before them)
        checkpoint_id,
        mixture_version,
        model_sha256,
        evaluated_at,
        benchmark,
        item_id,
        config as benchmark_config,
        discipline_id,
        cast(difficulty as integer) as difficulty,
        language,
        task_type,
        cast(num_fewshot as integer) as num_fewshot,
        correct,
        correct_norm,
        predicted,
        gold

    from source
    where model_id != '_bootstrap'

)

select * from renamed
