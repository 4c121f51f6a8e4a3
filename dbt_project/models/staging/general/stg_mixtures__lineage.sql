-- One row per sample of every committed mixture version: where it landed in the version's shards.
with

source as (

    {{ committed_rows('mixtures', 'lineage', 'mixture_manifest') }}

),

renamed as (

    select
        mixture_version,
        sample_id,
        source,
        item_id,
        parquet_shard,
        parquet_row,
        packed_shard,
        packed_sequence,
        token_offset,
        tokens

    from source

)

select * from renamed
