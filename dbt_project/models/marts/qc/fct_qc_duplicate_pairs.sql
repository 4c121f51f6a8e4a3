-- Audit of deduplication: every removed duplicate with the kept item it duplicates, both items' text and runs.
with

removals as (

    select * from {{ ref('stg_qc__removals') }}
    where qc_step in ('exact_dedup', 'near_dedup')

),

items as (

    select synthesis_run_id, item_id, question, strategy, discipline_id, target_difficulty
    from {{ ref('stg_qa__items') }}

),

kept as (

    -- the run that first admitted each kept item
    select synthesis_run_id, item_id from {{ ref('stg_qc__kept') }}
    qualify row_number() over (partition by item_id order by synthesis_run_id) = 1

    union all

    -- a general-corpus document the general corpus' QC kept can be what an item duplicates
    select '{{ var("general_qc_run") }}' as synthesis_run_id, doc_id as item_id
    from {{ ref('stg_qc__general_kept') }}

),

paired as (

    select
        removals.synthesis_run_id,
        removals.item_id,
        removals.qc_step,
        removals.reason,
        removals.duplicate_of,
        kept.synthesis_run_id as duplicate_of_run_id,
        removals.similarity,
        removed_item.strategy,
        removed_item.discipline_id,
        removed_item.target_difficulty,
        removed_item.question,
        kept_item.question as duplicate_of_question

    from removals
    left join items as removed_item
        on removed_item.synthesis_run_id = removals.synthesis_run_id and removed_item.item_id = removals.item_id
    left join kept on kept.item_id = removals.duplicate_of
    left join items as kept_item
        on kept_item.synthesis_run_id = kept.synthesis_run_id and kept_item.item_id = kept.item_id

)

select * from paired
