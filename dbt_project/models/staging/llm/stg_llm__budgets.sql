-- One row per run of an LLM stage checked by the spend guard: its caps, its projection and the pre-flight decision.
with

source as (

    {{ committed_rows('llm', 'budgets', 'object') }}

),

renamed as (

    select
        stage,
        run_id,
        run_day,
        checked_at,
        price_version,
        run_budget_tokens,
        run_budget_usd,
        day_budget_tokens,
        day_budget_usd,
        jobs as planned_jobs,
        tokens_per_job,
        usage_source,
        usage_detail,
        projected_tokens,
        projected_usd,
        committed_run_tokens,
        committed_run_usd,
        committed_day_tokens,
        committed_day_usd,
        is_accepted,
        reason as refusal_reason

    from source
    where run_id != '_bootstrap'

)

select * from renamed
