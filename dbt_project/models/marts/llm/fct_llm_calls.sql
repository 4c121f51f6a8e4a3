-- The LLM ledger at its own grain: one row per model turn of any stage, called or replayed from the cache, with the
-- ledger part it came from. fct_llm_usage aggregates it.
--
-- Incremental (config in _llm__models.yml): an incremental build loads the ledger parts that have no row here yet.
-- The rule works on parts, not runs, for two reasons:
--   * Each shard of a run writes its own part (llm/ledger/stage=<s>/run_id=<r>/part-<n>.parquet). A part is final
--     once written: a retry of its shard rewrites it with the same rows. But a run's set of parts grows until its
--     last shard finishes, and a resumed run (a cleared task, resume_run_id) adds parts to a run id that an earlier
--     build may already have loaded. "run_id not in this" would lose those late shards for good.
--   * A max-loaded watermark (max run_id) would also lose rows: run ids sort by start time within a stage, but
--     runs finish out of order (parallel and resumed runs) and the stages' ids do not sort together.
-- The turn has no natural key (a replayed turn repeats its request id), so its part and row number identify it
-- (unique_key: lake_part, part_row). The new parts are found from the part names alone; the rows are then read
-- only from those parts (DuckDB prunes the other files through the IN filter). A part with no rows is never "in"
-- the table, so it is listed again by every build; that costs one footer read and inserts nothing.
with

ledger as (

    select * from {{ ref('stg_llm__ledger') }}
    {% if is_incremental() %}
    where lake_part in (
        select lake_part from {{ ref('stg_llm__ledger') }}
        except
        select lake_part from {{ this }}
    )
    {% endif %}

),

final as (

    select
        stage,
        run_id,
        run_day,
        role,
        model,
        item_id,
        request_id,
        prompt_version,
        prompt_tokens,
        completion_tokens,
        latency_ms,
        is_cache_hit,
        status,
        attempts,
        lake_part,
        part_row

    from ledger

)

select * from final
