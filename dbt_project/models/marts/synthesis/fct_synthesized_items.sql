-- Each synthesized item once (the latest run that made it), with its bucket, answers and lineage: the input of QC.
--
-- Incremental (config in _synthesis__models.yml, unique_key item_id): an incremental build takes the staged rows
-- (item, run) that would win - the table holds no row for the item, or only one from an earlier run - and replaces
-- the item's row with the latest of them. The rule works on items, not runs: a run's item parts (one per shard) are
-- final once written, but a run gains parts until its last shard finishes, and a resumed run adds parts to a run id
-- an earlier build may already have loaded, so "run_id not in this" would lose those items; a max(run_id) watermark
-- would lose runs that finish after a later-starting one. The new keys come from a scan of the id columns only;
-- the full rows (questions, answers, reasoning) are read only from the runs that hold a new key.
with

{% if is_incremental() %}
new_keys as (

    select staged.synthesis_run_id, staged.item_id
    from {{ ref('stg_qa__items') }} as staged
    where not exists (
        select 1
        from {{ this }} as loaded
        where loaded.item_id = staged.item_id and loaded.synthesis_run_id >= staged.synthesis_run_id
    )

),
{% endif %}

items as (

    select items.*
    from {{ ref('stg_qa__items') }} as items
    {% if is_incremental() %}
    semi join new_keys using (synthesis_run_id, item_id)
    where items.synthesis_run_id in (select synthesis_run_id from new_keys)
    {% endif %}

),

latest as (

    select *
    from items
    qualify row_number() over (partition by item_id order by synthesis_run_id desc) = 1

)

select * from latest
