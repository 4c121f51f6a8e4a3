-- The training mixture of one version (env var BOOSTQA_MIXTURE_VERSION, set per mixture_export run; var('mixture_version')
-- when unset): QC-passed BoostQA items (at most var('mixture_bucket_cap') per discipline x difficulty bucket) plus
-- general-corpus documents up to var('mixture_general_ratio') times their characters, each part taken in a hash
-- order seeded by the version, then shuffled together the same way.
{%- set mixture_version = env_var('BOOSTQA_MIXTURE_VERSION', var('mixture_version')) %}
with

passed as (

    select
        *,
        length(question) + coalesce(length(array_to_string(options, ' ')), 0) + length(refined_answer) as chars,
        md5('{{ mixture_version }}' || ':' || item_id) as shuffle_key
    from {{ ref('fct_qc_passed_items') }}

),

boostqa as (

    select *
    from passed
    qualify row_number() over (partition by discipline_id, target_difficulty order by shuffle_key)
        <= {{ env_var('BOOSTQA_MIXTURE_BUCKET_CAP', var('mixture_bucket_cap')) }}

),

budget as (

    select coalesce(sum(chars), 0) * {{ env_var('BOOSTQA_MIXTURE_GENERAL_RATIO', var('mixture_general_ratio')) }} as general_chars
    from boostqa

),

general as (

    select
        *,
        md5('{{ mixture_version }}' || ':' || doc_id) as shuffle_key,
        sum(chars) over (
            order by md5('{{ mixture_version }}' || ':' || doc_id)
            rows between unbounded preceding and 1 preceding
        ) as chars_before
    from {{ ref('int_general_documents_passed') }}

),

general_taken as (

    -- documents until the budget is reached (the one that crosses it included)
    select general.*
    from general
    cross join budget
    where coalesce(general.chars_before, 0) < budget.general_chars

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
        chars
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
        chars
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
