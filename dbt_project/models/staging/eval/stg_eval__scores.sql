-- One row per model x benchmark x metric.
with

source as (

    {{ committed_rows('eval', 'scores', 'object') }}

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
        metric,
        cast(value as double) as metric_value,
        cast(items as bigint) as items,
        cast(num_fewshot as integer) as num_fewshot,
        model_path

    from source
    where model_id != '_bootstrap'

)

select * from renamed
