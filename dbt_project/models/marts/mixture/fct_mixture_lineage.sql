-- Per-sample lineage of every exported mixture: item id -> parquet shard and row, packed shard, sequence and
-- token offset; BoostQA samples joined back to their seed and synthesis run.
with

lineage as (

    select * from {{ source('mixtures', 'lineage') }}

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
