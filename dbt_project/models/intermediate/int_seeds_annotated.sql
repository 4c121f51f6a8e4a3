-- Each distinct seed with its latest valid annotation (null labels while pending or quarantined).
with

seeds as (

    select * from {{ ref('int_seeds_deduplicated') }}

),

labels as (

    select
        *,
        row_number() over (partition by item_id order by annotate_run_id desc, request_id desc) as recency
    from {{ ref('stg_annotations__labels') }}

),

invalid as (

    select distinct item_id from {{ ref('stg_annotations__invalid_outputs') }}

),

joined as (

    select
        seeds.seed_id,
        seeds.source_name,
        seeds.language,
        seeds.is_multiple_choice,
        labels.category_id,
        labels.discipline_id,
        labels.difficulty,
        labels.annotate_run_id,
        labels.annotator_model,
        labels.prompt_version,
        -- No tokenizer in the warehouse: about 4 characters per token in English, 1 per character in Chinese.
        cast(ceil(
            (length(seeds.question) + length(seeds.answer)) / case when seeds.language = 'zh' then 1.0 else 4.0 end
        ) as integer) as approx_tokens,
        case
            when labels.item_id is not null then 'annotated'
            when invalid.item_id is not null then 'quarantined'
            else 'pending'
        end as annotation_status

    from seeds
    left join labels on seeds.seed_id = labels.item_id and labels.recency = 1
    left join invalid on seeds.seed_id = invalid.item_id

)

select * from joined
