-- A job of a run is either an item or a reject, never both.
select items.item_id, items.synthesis_run_id
from {{ ref('stg_qa__items') }} as items
inner join {{ ref('stg_qa__rejects') }} as rejects
    on items.item_id = rejects.item_id and items.synthesis_run_id = rejects.synthesis_run_id
