-- One row per model turn of any LLM stage; the stage comes from the part's path (llm/ledger/stage=<stage>/...).
with

source as (

    select * from {{ source('llm', 'ledger') }}

),

renamed as (

    select
        regexp_extract(filename, '/stage=([^/]+)/', 1) as stage,
        run_id,
        role,
        model,
        item_id,
        request_id,
        prompt_version,
        prompt_tokens,
        completion_tokens,
        latency_ms,
        cache_hit as is_cache_hit,
        status,
        attempts

    from source

)

select * from renamed
