-- One row per training run: how far it got, what the loss did, how fast it went, and how many passes over its
-- mixture it made (tokens trained / tokens exported).
with

steps as (

    select * from {{ ref('fct_training_steps') }}

),

mixture_tokens as (

    select mixture_version, sum(tokens) as mixture_tokens
    from {{ ref('fct_mixture_lineage') }}
    group by mixture_version

),

runs as (

    select
        run_id,
        any_value(training_config) as training_config,
        any_value(mixture_version) as mixture_version,
        count(*) as steps,
        max(step) + 1 as last_step,
        arg_min(loss, step) as loss_first,
        arg_max(loss, step) as loss_last,
        arg_max(loss_trailing_mean, step) as loss_last_trailing_mean,
        min(loss) as loss_min,
        sum(tokens) as tokens_trained,
        sum(seconds) as train_seconds,
        sum(tokens) / nullif(sum(seconds), 0) as tokens_per_s

    from steps
    group by run_id

),

final as (

    select
        runs.*,
        runs.loss_first - runs.loss_last as loss_drop,
        mixture_tokens.mixture_tokens,
        runs.tokens_trained / nullif(mixture_tokens.mixture_tokens, 0) as mixture_epochs

    from runs
    left join mixture_tokens using (mixture_version)

)

select * from final
