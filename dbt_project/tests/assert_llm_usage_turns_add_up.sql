-- Every ledger turn is either a call or a cache hit, and no turn is lost between staging and the mart.
select 'mart' as side, stage, run_id
from {{ ref('fct_llm_usage') }}
where calls + cache_hits != turns
union all
select 'total' as side, null, null
from (select count(*) as n from {{ ref('stg_llm__ledger') }}) as ledger
cross join (select coalesce(sum(turns), 0) as n from {{ ref('fct_llm_usage') }}) as mart
where ledger.n != mart.n
