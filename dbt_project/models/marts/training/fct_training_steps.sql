-- The loss curve of every training run: per step, tokens seen so far and a trailing mean loss that smooths
-- the noise of small batches.
with

steps as (

    select * from {{ ref('stg_training__metrics') }}

),

final as (

    select
        run_id,
        training_config,
        mixture_version,
        step,
        loss,
        avg(loss) over (
            partition by run_id order by step rows between {{ var('training_loss_window') - 1 }} preceding and current row
        ) as loss_trailing_mean,
        learning_rate,
        tokens,
        sum(tokens) over (partition by run_id order by step) as tokens_seen,
        seconds,
        tokens_per_s,
        samples

    from steps

)

select * from final
