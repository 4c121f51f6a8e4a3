-- Calls, cache replays, billed tokens, latency and cost per stage x run x role x model.
-- Billed = turns that reached a server; replayed turns (cache hits) cost nothing and are counted apart.
-- It aggregates fct_llm_calls (the incremental ledger, every turn once) rather than re-reading the lake; a whole
-- table, so a new price list (var llm_price_version, the llm_prices seed) re-costs every run at once.
with

ledger as (

    select * from {{ ref('fct_llm_calls') }}

),

prices as (

    select * from {{ ref('llm_prices') }}
    where price_version = '{{ var("llm_price_version") }}'

),

per_run as (

    select
        stage,
        run_id,
        role,
        model,
        count(distinct item_id) as items,
        count(*) as turns,
        count(*) filter (where not is_cache_hit) as calls,
        count(*) filter (where is_cache_hit) as cache_hits,
        coalesce(sum(attempts), 0) as attempts,
        coalesce(sum(prompt_tokens) filter (where not is_cache_hit), 0) as billed_prompt_tokens,
        coalesce(sum(completion_tokens) filter (where not is_cache_hit), 0) as billed_completion_tokens,
        coalesce(sum(prompt_tokens + completion_tokens) filter (where is_cache_hit), 0) as replayed_tokens,
        coalesce(sum(prompt_tokens), 0) as all_prompt_tokens,
        coalesce(sum(completion_tokens), 0) as all_completion_tokens,
        quantile_cont(latency_ms, 0.5) filter (where not is_cache_hit) as p50_latency_ms,
        quantile_cont(latency_ms, 0.95) filter (where not is_cache_hit) as p95_latency_ms

    from ledger
    group by all

),

final as (

    select
        per_run.*,
        prices.price_version,
        prices.model is not null as is_priced,
        (per_run.billed_prompt_tokens * prices.usd_per_million_prompt_tokens
            + per_run.billed_completion_tokens * prices.usd_per_million_completion_tokens) / 1e6 as cost_usd

    from per_run
    left join prices on per_run.model = prices.model

)

select * from final
