-- The training mixture of one version (env var BOOSTQA_MIXTURE_VERSION, set per mixture_export run; var('mixture_version')
-- when unset): QC-passed BoostQA items (at most var('mixture_bucket_cap') per discipline x difficulty bucket) plus
-- general-corpus documents that passed QC (int_general_documents_passed) up to var('mixture_general_ratio') times
-- their tokens, each part taken in a hash order
-- seeded by the version, then shuffled together the same way. Tokens are the target tokenizer's (env var
-- BOOSTQA_MIXTURE_TOKENIZER, its sha256, from the DAG's count_tokens job; var('mixture_tokenizer') when unset).
{%- set mixture_version = env_var('BOOSTQA_MIXTURE_VERSION', var('mixture_version')) %}
{%- set tokenizer = env_var('BOOSTQA_MIXTURE_TOKENIZER', var('mixture_tokenizer')) %}
with

counts as (

    select sample_id, text_md5, tokens
    from {{ ref('stg_mixtures__token_counts') }}
    where tokenizer_sha256 = '{{ tokenizer }}'

),

passed as (

    select
        items.*,
        length(items.question) + coalesce(length(array_to_string(items.options, ' ')), 0)
            + length(items.refined_answer) as chars,
        counts.tokens,
        md5('{{ mixture_version }}' || ':' || items.item_id) as shuffle_key
    from {{ ref('fct_qc_passed_items') }} as items
    left join counts on counts.sample_id = 'boostqa:' || items.item_id

),

boostqa as (

    select *
    from passed
    qualify row_number() over (partition by discipline_id, target_difficulty order by shuffle_key)
        <= {{ env_var('BOOSTQA_MIXTURE_BUCKET_CAP', var('mixture_bucket_cap')) }}

),

budget as (

    select coalesce(sum(tokens), 0) * {{ env_var('BOOSTQA_MIXTURE_GENERAL_RATIO', var('mixture_general_ratio')) }} as general_tokens
    from boostqa

),

documents as (

    -- a count matches a document only while its text is the text that was counted
    select
        documents.*,
        counts.tokens
    from {{ ref('int_general_documents_passed') }} as documents
    left join counts
        on counts.sample_id = 'general:' || documents.doc_id and counts.text_md5 = md5(documents.text)

),

general as (

    select
        *,
        md5('{{ mixture_version }}' || ':' || doc_id) as shuffle_key,
        sum(tokens) over (
            order by md5('{{ mixture_version }}' || ':' || doc_id)
            rows between unbounded preceding and 1 preceding
        ) as tokens_before
    from documents

),

general_taken as (

    -- documents until the budget is reached (the one that crosses it included)
    select general.*
    from general
    cross join budget
    where coalesce(general.tokens_before, 0) < budget.general_tokens

),

samples as (

    select
        'boostqa:' || item_id as sample_id,
        'boostqa' as source,
        item_id,
        synthesis_run_id,
        strategy,
        discipline_id,
        target_difficulty as difficulty,
        language,
        question,
        options,
        refined_answer,
        refined_option,
        cast(null as varchar) as text,
        chars,
        tokens
    from boostqa

    union all

    select
        'general:' || doc_id as sample_id,
        'general' as source,
        doc_id as item_id,
        null as synthesis_run_id,
        null as strategy,
        null as discipline_id,
        null as difficulty,
        language,
        null as question,
        null as options,
        null as refined_answer,
        null as refined_option,
        text,
        chars,
        tokens
    from general_taken

),

final as (

    select
        '{{ mixture_version }}' as mixture_version,
        row_number() over (order by md5('{{ mixture_version }}' || ':' || sample_id)) as sample_order,
        *
    from samples

)

select * from final
