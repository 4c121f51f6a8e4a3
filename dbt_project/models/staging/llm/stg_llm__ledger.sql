-- One row per model turn of any LLM stage; the stage comes from the part's path (llm/ledger/stage=<stage>/...).
with

source as (

    {{ committed_rows('llm', 'ledger', 'ledger_shard_marker') }}

),

renamed as (

    select
        regexp_extract(filename, '/stage=([^/]+)/', 1) as stage,
        run_id,
        -- UTC day the run started, from its id: <stage>_<YYYYMMDD>T<HHMMSS>Z_<hash> (or legacy <stage>_<YYYY-MM-DD>)
        coalesce(
            try_strptime(regexp_extract(run_id, '_(\d{8})T\d{6}Z_[0-9a-f]{8}$', 1), '%Y%m%d')::date,
            try_cast(regexp_extract(run_id, '_(\d{4}-\d{2}-\d{2})$', 1) as date)
        ) as run_day,
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
        attempts,

        -- where the turn lies in the lake: its part (a shard's object, final once written) and its row there
        filename as lake_part,
        file_row_number as part_row

    from source

)

select * from renamed
