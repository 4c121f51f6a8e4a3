-- One row per model turn of the annotate stage.
with

source as (

    select * from {{ source('annotations', 'ledger') }}

),

renamed as (

    select
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
