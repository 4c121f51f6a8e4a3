-- One row per packed sequence every published training run read: optimizer step, position in the global batch,
-- the epoch (pass over the mixture) and the sequence, both as a global index and as the lineage's
-- (packed_shard, packed_sequence).
with

source as (

    {{ committed_rows('training', 'samples', 'object') }}

),

renamed as (

    select
        run_id,
        mixture_version,
        manifest_sha256,
        cast(step as bigint) as step,
        cast(batch_position as integer) as batch_position,
        cast(epoch as bigint) as epoch,
        cast(sequence_index as bigint) as sequence_index,
        cast(packed_shard as integer) as packed_shard,
        cast(packed_sequence as bigint) as packed_sequence,
        cast(seq_len as integer) as seq_len

    from source

)

select * from renamed
