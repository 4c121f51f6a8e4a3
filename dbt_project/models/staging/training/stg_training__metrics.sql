-- One row per optimizer step of every published training run.
with

source as (

    {{ committed_rows('training', 'metrics', 'object') }}

),

renamed as (

    select
        run_id,
        config as training_config,
        mixture_version,
        cast(step as bigint) as step,
        cast(loss as double) as loss,
        cast(lr as double) as learning_rate,
        cast(tokens as bigint) as tokens,
        cast(seconds as double) as seconds,
        cast(tokens_per_s as double) as tokens_per_s,
        cast(samples as bigint) as samples

    from source

)

select * from renamed
