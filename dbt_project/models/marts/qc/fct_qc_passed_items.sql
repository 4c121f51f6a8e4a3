-- The QC'd corpus: every item that passed QC, once (the first run that admitted it), with its content and
-- lineage. This is what the training mixture selects from.
--
-- Incremental (config in _qc__models.yml, unique_key item_id): an incremental build takes the QC-kept rows that
-- could win - the table holds no row for the item, or only one from a later run - joins them to their items and
-- replaces the item's row with the earliest. "First run wins" thus holds across builds: a later run never adds a
-- second row for an item the table has, and a run loaded late that admitted the item earlier takes its place, as a
-- full refresh would. The rule works on kept rows, not runs: QC writes one kept part per synthesis run, but the
-- item it names may be loaded later (its shard's part), and a kept row whose item is not staged yet stays "new"
-- until it joins. The kept table holds ids only; item content is read only from the runs with a new kept row.
with

new_kept as (

    select kept.*
    from {{ ref('stg_qc__kept') }} as kept
    {% if is_incremental() %}
    where not exists (
        select 1
        from {{ this }} as loaded
        where loaded.item_id = kept.item_id and loaded.synthesis_run_id <= kept.synthesis_run_id
    )
    {% endif %}

),

items as (

    select * from {{ ref('stg_qa__items') }}
    {% if is_incremental() %}
    where synthesis_run_id in (select synthesis_run_id from new_kept)
    {% endif %}

),

passed as (

    select
        items.*,
        new_kept.exact_key

    from items
    inner join new_kept using (synthesis_run_id, item_id)
    qualify row_number() over (partition by items.item_id order by items.synthesis_run_id) = 1

)

select * from passed
