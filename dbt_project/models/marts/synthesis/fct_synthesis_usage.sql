-- Tokens and cost of synthesis per run x strategy x target bucket x role (generator drafts, annotator
-- difficulty checks, refiner answers), at the prices of var('llm_price_version').
with

ledger as (

    select * from {{ ref('stg_llm__ledger') }}
    where stage = 'synthesize'

),

jobs as (

    select item_id, synthesis_run_id, strategy, discipline_id, target_difficulty from {{ ref('stg_qa__items') }}
    union all
    select item_id, synthesis_run_id, strategy, discipline_id, target_difficulty from {{ ref('stg_qa__rejects') }}

),

prices as (

    select * from {{ ref('llm_prices') }}
    where price_version = '{{ var("llm_price_version") }}'

),

joined as (

    select
        ledger.run_id as synthesis_run_id,
        jobs.strategy,
        jobs.discipline_id,
        jobs.target_difficulty,
        ledger.role,
        ledger.model,
        count(*) as turns,
        count(*) filter (where not ledger.is_cache_hit) as calls,
        coalesce(sum(ledger.prompt_tokens) filter (where not ledger.is_cache_hit), 0) as billed_prompt_tokens,
        coalesce(sum(ledger.completion_tokens) filter (where not ledger.is_cache_hit), 0) as billed_completion_tokens

    from ledger
    inner join jobs on ledger.item_id = jobs.item_id and ledger.run_id = jobs.synthesis_run_id
    group by all

),

final as (

    select
        joined.*,
        (joined.billed_prompt_tokens * prices.usd_per_million_prompt_tokens
            + joined.billed_completion_tokens * prices.usd_per_million_completion_tokens) / 1e6 as cost_usd

    from joined
    left join prices on joined.model = prices.model

)

select * from final
