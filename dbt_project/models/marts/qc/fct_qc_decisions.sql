-- Every QC decision, once: one row per synthesis run x item that QC kept or removed, with the first reason of a
-- removal, the duplicate or benchmark item behind it and how many reasons QC recorded. Items of a run QC has not
-- checked yet (pending) are not decisions and have no row until it has.
--
-- Incremental (config in _qc__models.yml, unique_key synthesis_run_id + item_id): an incremental build inserts the
-- decisions whose (run, item) is not in the table yet. QC decides once per synthesis run and never revisits a
-- decision, so a decided row is final. The rule works on (run, item), not runs: QC writes a run's removals part
-- before its kept part, and a build that lands between the two sees only the removals; the kept items of that run
-- then join on the next build (a per-run rule would skip them as "already loaded"). Only narrow id and bucket
-- columns are read.
with

screened as (

    select * from {{ ref('int_qa_items_screened') }}

),

decided as (

    select *
    from screened
    where qc_status in ('kept', 'removed')
    {% if is_incremental() %}
        and not exists (
            select 1
            from {{ this }} as loaded
            where loaded.synthesis_run_id = screened.synthesis_run_id and loaded.item_id = screened.item_id
        )
    {% endif %}

)

select * from decided
