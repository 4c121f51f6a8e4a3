-- Jobs never exceed a plan row's quota, and every job's seed can serve its strategy.
with

jobs as (

    select * from {{ ref('fct_synthesis_jobs') }}

),

over_quota as (

    select jobs.strategy, jobs.discipline_id, jobs.target_difficulty, 'more jobs than quota' as problem
    from jobs
    inner join {{ ref('fct_generation_plan') }} as plan
        using (plan_id, strategy, discipline_id, target_difficulty)
    group by all
    having count(*) > any_value(plan.quota)

),

wrong_seed as (

    select strategy, discipline_id, target_difficulty, 'seed cannot serve the strategy' as problem
    from jobs
    where (strategy = 'high_difficulty' and seed_difficulty >= target_difficulty)
        or (strategy = 'multi_grade' and seed_difficulty = target_difficulty)

)

select * from over_quota
union all
select * from wrong_seed
