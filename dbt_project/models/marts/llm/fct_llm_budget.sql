-- Budget versus spend of the LLM stages, per run (grain 'run') and per stage x UTC day (grain 'day').
-- Spend = tokens of turns that reached a server (cache replays are free), priced with the llm_prices seed at
-- var('llm_price_version'); a run's day is the UTC day it started. Budgets and projections come from the spend
-- guard's pre-flight records; a run without one (no guard, or before the guard existed) shows no budget.
with

ledger as (

    select * from {{ ref('stg_llm__ledger') }}
    where run_id != '_bootstrap'

),

prices as (

    select * from {{ ref('llm_prices') }}
    where price_version = '{{ var("llm_price_version") }}'

),

budgets as (

    select * from {{ ref('stg_llm__budgets') }}

),

run_spend as (

    select
        ledger.stage,
        ledger.run_id,
        min(ledger.run_day) as run_day,
        count(*) filter (where not ledger.is_cache_hit) as calls,
        coalesce(sum(ledger.prompt_tokens + ledger.completion_tokens) filter (where not ledger.is_cache_hit), 0)
            as spent_tokens,
        coalesce(sum((ledger.prompt_tokens * prices.usd_per_million_prompt_tokens
            + ledger.completion_tokens * prices.usd_per_million_completion_tokens) / 1e6)
            filter (where not ledger.is_cache_hit), 0) as spent_usd,
        count(*) filter (where not ledger.is_cache_hit and prices.model is null) = 0 as is_priced

    from ledger
    left join prices on ledger.model = prices.model
    group by ledger.stage, ledger.run_id

),

per_run as (

    select
        'run' as grain,
        coalesce(budgets.stage, run_spend.stage) as stage,
        coalesce(budgets.run_day, run_spend.run_day) as run_day,
        coalesce(budgets.run_id, run_spend.run_id) as run_id,
        1 as runs,
        budgets.run_budget_tokens as budget_tokens,
        budgets.run_budget_usd as budget_usd,
        budgets.planned_jobs,
        budgets.tokens_per_job,
        budgets.usage_source,
        budgets.projected_tokens,
        budgets.projected_usd,
        coalesce(run_spend.calls, 0) as calls,
        coalesce(run_spend.spent_tokens, 0) as spent_tokens,
        coalesce(run_spend.spent_usd, 0) as spent_usd,
        coalesce(run_spend.is_priced, true) as is_priced,
        coalesce(not budgets.is_accepted, false) as was_refused,
        budgets.run_id is not null as has_budget_record

    from run_spend
    full outer join budgets
        on run_spend.stage = budgets.stage and run_spend.run_id = budgets.run_id

),

latest_check_of_day as (

    -- the day caps in force: those of the day's latest pre-flight check of the stage
    select
        stage,
        run_day,
        day_budget_tokens,
        day_budget_usd

    from budgets
    where run_day is not null
    qualify row_number() over (partition by stage, run_day order by checked_at desc, run_id desc) = 1

),

per_day as (

    select
        'day' as grain,
        per_run.stage,
        per_run.run_day,
        null::varchar as run_id,
        count(*) as runs,
        any_value(day.day_budget_tokens) as budget_tokens,
        any_value(day.day_budget_usd) as budget_usd,
        sum(per_run.planned_jobs) as planned_jobs,
        null::double as tokens_per_job,
        null::varchar as usage_source,
        sum(per_run.projected_tokens) as projected_tokens,
        sum(per_run.projected_usd) as projected_usd,
        sum(per_run.calls) as calls,
        sum(per_run.spent_tokens) as spent_tokens,
        sum(per_run.spent_usd) as spent_usd,
        bool_and(per_run.is_priced) as is_priced,
        bool_or(per_run.was_refused) as was_refused,
        bool_or(per_run.has_budget_record) as has_budget_record

    from per_run
    left join latest_check_of_day as day
        on per_run.stage = day.stage and per_run.run_day = day.run_day
    where per_run.run_day is not null
    group by per_run.stage, per_run.run_day

),

unioned as (

    select * from per_run
    union all by name
    select * from per_day

),

final as (

    select
        grain,
        stage,
        run_day,
        run_id,
        runs,
        budget_tokens,
        budget_usd,
        planned_jobs,
        tokens_per_job,
        usage_source,
        projected_tokens,
        projected_usd,
        calls,
        spent_tokens,
        spent_usd,
        is_priced,
        budget_tokens - spent_tokens as remaining_tokens,
        budget_usd - spent_usd as remaining_usd,
        coalesce(spent_tokens > budget_tokens, false) or coalesce(spent_usd > budget_usd, false) as is_over_budget,
        was_refused,
        has_budget_record

    from unioned

)

select * from final
