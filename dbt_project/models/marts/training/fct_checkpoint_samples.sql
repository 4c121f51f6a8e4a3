-- What the model saw: one row per training run x mixture sample the run read, with how many times. The run's
-- checkpoint (the `checkpoint` asset, its HF folder) is its last step, so this is what that checkpoint saw.
--
-- The rule: the export packs samples back to back into one token stream (each followed by EOS) cut into
-- seq_len-token sequences, so a sample may span sequences. It starts at the lineage's (packed_shard,
-- packed_sequence, token_offset) and covers `tokens` tokens; it is seen in an epoch when the run read any
-- sequence holding part of it (times_seen), and whole when it read every one of them (times_seen_whole).
--
-- Incremental (config in _training__models.yml, unique_key run_id + sample_id): an incremental build loads the
-- training runs that have no row here yet. A run's samples record is one part, published whole after the run
-- (training/samples/run_id=<run>/part-00000.parquet; a retried publish rewrites it with the same rows), so a loaded
-- run never changes and a per-run rule is exact. A run whose mixture lineage is not loaded yet has no row, so the
-- next build tries it again. The build also reloads a run whose samples' seed, synthesis run or plan no longer
-- match fct_mixture_lineage (which reloads a version when "first run wins" moves an item to an earlier run); that
-- check joins two warehouse tables. Only those runs' reads and their mixtures' lineage are read.
-- (`is_incremental is defined`: tests/boostqa/launch/test_samples_seen.py renders this file with plain Jinja.)
with

seen as (

    select * from {{ ref('stg_training__samples_seen') }}
    {% if is_incremental is defined and is_incremental() %}
    where run_id in (
        (
            select run_id from {{ ref('stg_training__samples_seen') }}
            except
            select run_id from {{ this }}
        )
        union
        select loaded.run_id
        from {{ this }} as loaded
        inner join {{ ref('fct_mixture_lineage') }} as lineage using (mixture_version, sample_id)
        where loaded.seed_id is distinct from lineage.seed_id
            or loaded.synthesis_run_id is distinct from lineage.synthesis_run_id
            or loaded.plan_id is distinct from lineage.plan_id
    )
    {% endif %}

),

lineage as (

    -- only the mixtures the runs trained on (each mixture's token stream is a window over its own lineage)
    select * from {{ ref('fct_mixture_lineage') }}
    where mixture_version in (select mixture_version from seen)

),

runs as (

    -- one mixture per run: a checkpoint refuses to resume on another (training/samples.py)
    select
        run_id,
        any_value(mixture_version) as mixture_version,
        any_value(manifest_sha256) as manifest_sha256,
        any_value(seq_len) as seq_len

    from seen
    group by run_id

),

spans as (

    -- where each sample lies in its mixture's token stream: after the tokens of every sample packed before it
    -- (packing order is lineage order: packed_shard, packed_sequence, token_offset)
    select
        lineage.*,
        cast(coalesce(sum(lineage.tokens) over (
            partition by lineage.mixture_version
            order by lineage.packed_shard, lineage.packed_sequence, lineage.token_offset
            rows between unbounded preceding and 1 preceding
        ), 0) as bigint) as token_start

    from lineage

),

run_samples as (

    select
        runs.run_id,
        runs.manifest_sha256,
        spans.*,
        spans.token_start // runs.seq_len as first_sequence,
        (spans.token_start + spans.tokens - 1) // runs.seq_len as last_sequence

    from runs
    inner join spans on spans.mixture_version = runs.mixture_version

),

pieces as (

    -- every global sequence (the trainer's sequence_index) holding part of a sample
    select
        run_id,
        sample_id,
        unnest(generate_series(first_sequence, last_sequence)) as sequence_index

    from run_samples

),

reads_per_epoch as (

    select
        pieces.run_id,
        pieces.sample_id,
        seen.epoch,
        count(*) as sequence_reads,
        count(distinct seen.sequence_index) as pieces_read,
        min(seen.step) as first_step,
        max(seen.step) as last_step

    from pieces
    inner join seen
        on seen.run_id = pieces.run_id and seen.sequence_index = pieces.sequence_index
    group by pieces.run_id, pieces.sample_id, seen.epoch

),

final as (

    select
        run_samples.run_id,
        run_samples.mixture_version,
        run_samples.manifest_sha256,
        run_samples.sample_id,
        run_samples.source,
        run_samples.item_id,
        run_samples.seed_id,
        run_samples.synthesis_run_id,
        run_samples.plan_id,
        run_samples.tokens,
        run_samples.last_sequence - run_samples.first_sequence + 1 as sequences_spanned,
        count(*) as times_seen,
        count(*) filter (
            where reads.pieces_read = run_samples.last_sequence - run_samples.first_sequence + 1
        ) as times_seen_whole,
        sum(reads.sequence_reads) as sequence_reads,
        min(reads.first_step) as first_step,
        max(reads.last_step) as last_step

    from run_samples
    inner join reads_per_epoch as reads
        on reads.run_id = run_samples.run_id and reads.sample_id = run_samples.sample_id
    group by all

)

select * from final
