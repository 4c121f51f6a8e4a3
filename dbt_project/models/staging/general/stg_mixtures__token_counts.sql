-- One row per candidate and tokenizer: its tokens (EOS included). Two count runs that overlapped may both have
-- counted a candidate; they agree, so the earlier run's row is kept.
with

source as (

    {{ committed_rows('mixtures', 'token_counts', 'object') }}

),

deduplicated as (

    select
        tokenizer_sha256,
        sample_id,
        source as corpus,
        item_id,
        text_md5,
        cast(tokens as bigint) as tokens,
        run_id as count_run_id

    from source
    qualify row_number() over (
        partition by tokenizer_sha256, sample_id, coalesce(text_md5, '') order by run_id
    ) = 1

)

select * from deduplicated
