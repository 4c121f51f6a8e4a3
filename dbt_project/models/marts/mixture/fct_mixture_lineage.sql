-- Per-sample lineage of every exported mixture: item id -> parquet shard and row, packed shard, sequence and
-- token offset; BoostQA samples joined back to their seed and synthesis run.
--
-- Incremental (config in _mixture__models.yml, unique_key mixture_version + sample_id): an incremental build loads
-- the mixture versions that have no row here yet. A version is exported once, whole (export_mixture refuses a
-- complete version; a retry of the same run rewrites its one lineage part with the same rows), so a loaded version
-- never changes and a per-version rule is exact; a watermark would not be (versions are ids, not an order).
-- The build also reloads a version whose BoostQA samples no longer match fct_qc_passed_items (seed, run, plan):
-- "first run wins" there moves an item to an earlier run when that run is loaded late. That check joins two
-- warehouse tables and reads nothing from the lake.
-- (`is_incremental is defined`: tests/boostqa/launch/test_samples_seen.py renders this file with plain Jinja.)
with

lineage as (

    select * from {{ ref('stg_mixtures__lineage') }}
    {% if is_incremental is defined and is_incremental() %}
    where mixture_version in (
        (
            select mixture_version from {{ ref('stg_mixtures__lineage') }}
            except
            select mixture_version from {{ this }}
        )
        union
        select loaded.mixture_version
        from {{ this }} as loaded
        left join {{ ref('fct_qc_passed_items') }} as passed
            on loaded.source = 'boostqa' and passed.item_id = loaded.item_id
        where loaded.seed_id is distinct from passed.seed_id
            or loaded.synthesis_run_id is distinct from passed.synthesis_run_id
            or loaded.plan_id is distinct from passed.plan_id
    )
    {% endif %}

),

items as (

    select item_id, seed_id, synthesis_run_id, plan_id from {{ ref('fct_qc_passed_items') }}

),

final as (

    select
        lineage.mixture_version,
        lineage.sample_id,
        lineage.source,
        lineage.item_id,
        items.seed_id,
        items.synthesis_run_id,
        items.plan_id,
        lineage.parquet_shard,
        cast(lineage.parquet_row as bigint) as parquet_row,
        cast(lineage.packed_shard as integer) as packed_shard,
        cast(lineage.packed_sequence as bigint) as packed_sequence,
        cast(lineage.token_offset as integer) as token_offset,
        cast(lineage.tokens as integer) as tokens

    from lineage
    left join items
        on lineage.source = 'boostqa' and items.item_id = lineage.item_id

)

select * from final
