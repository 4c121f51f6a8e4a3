-- Each synthesized item once (the latest run that made it), with its bucket, answers and lineage: the input of QC.
with

items as (

    select
        *,
        row_number() over (partition by item_id order by synthesis_run_id desc) as recency
    from {{ ref('stg_qa__items') }}

)

select * exclude (recency)
from items
where recency = 1
