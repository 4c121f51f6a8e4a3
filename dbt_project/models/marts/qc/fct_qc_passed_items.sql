-- The QC'd corpus: every item that passed QC, once (the first run that admitted it), with its content and
-- lineage. This is what the training mixture selects from.
with

kept as (

    select * from {{ ref('stg_qc__kept') }}

),

items as (

    select * from {{ ref('stg_qa__items') }}

),

passed as (

    select
        items.*,
        kept.exact_key

    from items
    inner join kept using (synthesis_run_id, item_id)
    qualify row_number() over (partition by items.item_id order by items.synthesis_run_id) = 1

)

select * from passed
