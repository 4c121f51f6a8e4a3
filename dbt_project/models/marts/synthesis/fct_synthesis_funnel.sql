-- The synthesis funnel per run x strategy x target bucket: jobs -> generated -> verified -> reached the target
-- difficulty -> kept after refinement, with the count of each reject reason and the difficulty-degraded rate.
with

items as (

    select synthesis_run_id, strategy, discipline_id, target_difficulty, 'kept' as outcome, null as step
    from {{ ref('stg_qa__items') }}

),

rejects as (

    select synthesis_run_id, strategy, discipline_id, target_difficulty, reason as outcome, step
    from {{ ref('stg_qa__rejects') }}

),

jobs as (

    select * from items
    union all
    select * from rejects

),

counted as (

    select
        synthesis_run_id,
        strategy,
        discipline_id,
        target_difficulty,
        count(*) as jobs,
        -- by the step a job stopped at: an LLM refusal or truncation stops it wherever it happens
        count(*) filter (where step is distinct from 'generate') as generated,
        count(*) filter (
            where step is distinct from 'generate'
            and not coalesce(step = 'verify' and outcome != 'difficulty_degraded', false)
        ) as verified,
        count(*) filter (where step is null or step not in ('generate', 'verify')) as reached_difficulty,
        count(*) filter (where outcome = 'kept') as kept,
        {{ count_per_code('outcome', 'synthesis_reject_reason', 'rejected_') }}

    from jobs
    group by all

),

final as (

    select
        *,
        rejected_difficulty_degraded / nullif(verified, 0) as difficulty_degraded_rate,
        kept / jobs as yield

    from counted

)

select * from final
