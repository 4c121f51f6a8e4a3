-- Each distinct seed with the consensus of its latest annotate run (null labels while pending or quarantined).
-- One sample: that label. Several: the most frequent discipline (ties: alphabetical) and the median difficulty.
with

seeds as (

    select * from {{ ref('int_seeds_deduplicated') }}

),

all_labels as (

    select * from {{ ref('stg_annotations__labels') }}

),

latest_run as (

    select item_id, max(annotate_run_id) as annotate_run_id
    from all_labels
    group by 1

),

run_labels as (

    select all_labels.*
    from all_labels
    inner join latest_run using (item_id, annotate_run_id)

),

discipline_votes as (

    select
        item_id,
        discipline_id,
        any_value(category_id) as category_id,
        count(*) as votes,
        row_number() over (partition by item_id order by count(*) desc, discipline_id) as rank
    from run_labels
    group by item_id, discipline_id

),

labels as (

    select
        run_labels.item_id,
        any_value(run_labels.annotate_run_id) as annotate_run_id,
        any_value(run_labels.annotator_model) as annotator_model,
        any_value(run_labels.prompt_version) as prompt_version,
        any_value(votes.discipline_id) as discipline_id,
        any_value(votes.category_id) as category_id,
        -- round half up, so a 2-2 split of difficulties 2 and 3 counts as the harder one
        cast(floor(median(run_labels.difficulty) + 0.5) as integer) as difficulty,
        count(*) as annotation_samples,
        any_value(votes.votes) / count(*) as discipline_agreement
    from run_labels
    inner join discipline_votes as votes on run_labels.item_id = votes.item_id and votes.rank = 1
    group by run_labels.item_id

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
        labels.annotation_samples,
        labels.discipline_agreement,
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
    left join labels on seeds.seed_id = labels.item_id
    left join invalid on seeds.seed_id = invalid.item_id

)

select * from joined
