-- Quotas are positive and never exceed the budget in total.
select 'negative_quota' as problem, count(*) as n from {{ ref('fct_generation_plan') }} where quota <= 0
having count(*) > 0
union all
select 'over_budget', sum(quota) from {{ ref('fct_generation_plan') }}
having sum(quota) > {{ var('generation_budget_items') }}
