-- Per plan row: the quota, the jobs that could be matched to seeds, and the items every synthesis run of that
-- plan kept so far (distinct job ids, so reruns do not double count); the gap says why a bucket falls short.
with

plan as (

    select plan_id, strategy, discipline_id, target_difficulty, quota
    from {{ ref('fct_generation_plan') }}

),

jobs as (

    select plan_id, strategy, discipline_id, target_difficulty, count(*) as jobs
    from {{ ref('fct_synthesis_jobs') }}
    group by all

),

kept as (

    select plan_id, strategy, discipline_id, target_difficulty, count(distinct item_id) as kept_items
    from {{ ref('stg_qa__items') }}
    group by all

),

final as (

    select
        plan.*,
        coalesce(jobs.jobs, 0) as jobs,
        coalesce(kept.kept_items, 0) as kept_items,
        greatest(plan.quota - coalesce(kept.kept_items, 0), 0) as remaining,
        case
            when plan.quota = 0 then 'nothing planned'
            when coalesce(jobs.jobs, 0) = 0 then 'no seed in the discipline can serve it'
            when coalesce(kept.kept_items, 0) >= plan.quota then 'done'
            else 'in progress or rejected'
        end as status

    from plan
    left join jobs using (plan_id, strategy, discipline_id, target_difficulty)
    left join kept using (plan_id, strategy, discipline_id, target_difficulty)

)

select * from final
