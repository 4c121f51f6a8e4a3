-- One row per item the synthesis stage should make: each plan row's quota spread round-robin over the annotated
-- seeds of its discipline that can serve it. high_difficulty draws from seeds below the target (the closest
-- first); multi_grade from seeds at any other difficulty (the closest first). A plan row without such seeds gets
-- no jobs (fct_plan_coverage shows the shortfall). Replicas of a seed x strategy x bucket continue after the highest
-- one any run already finished (int_synthesis_jobs_done), so a new plan never repeats a job id or a sampling seed;
-- the job id leaves the plan out for the same reason (a job a capped run left pending keeps its id and its cache).
with

plan as (

    select * from {{ ref('fct_generation_plan') }}
    where quota > 0
        and (strategy != 'multi_grade'
            or target_difficulty in ({{ var('multi_grade_target_difficulties') | join(', ') }}))

),

seeds as (

    select
        annotated.seed_id,
        annotated.discipline_id,
        annotated.category_id,
        annotated.difficulty as seed_difficulty,
        annotated.language,
        questions.question as seed_question,
        questions.options as seed_options,
        questions.answer as seed_answer

    from {{ ref('int_seeds_annotated') }} as annotated
    inner join {{ ref('int_seeds_deduplicated') }} as questions using (seed_id)
    where annotated.annotation_status = 'annotated'

),

done as (

    select seed_id, strategy, discipline_id, target_difficulty, max(replica) + 1 as next_replica
    from {{ ref('int_synthesis_jobs_done') }}
    where replica is not null
    group by all

),

candidates as (

    select
        plan.plan_id,
        plan.strategy,
        plan.discipline_id,
        plan.target_difficulty,
        plan.quota,
        seeds.* exclude (discipline_id),
        row_number() over (
            partition by plan.plan_id, plan.strategy, plan.discipline_id, plan.target_difficulty
            order by abs(plan.target_difficulty - seeds.seed_difficulty), seeds.seed_id
        ) as candidate_rank,
        count(*) over (
            partition by plan.plan_id, plan.strategy, plan.discipline_id, plan.target_difficulty
        ) as candidates

    from plan
    inner join seeds
        on plan.discipline_id = seeds.discipline_id
        and (
            (plan.strategy = 'high_difficulty' and seeds.seed_difficulty < plan.target_difficulty)
            or (plan.strategy = 'multi_grade' and seeds.seed_difficulty != plan.target_difficulty)
        )

),

slots as (

    select
        candidates.*,
        slot.n as slot_index,
        cast(slot.n // candidates.candidates as integer) as round

    from candidates
    cross join lateral (select unnest(range(candidates.quota)) as n) as slot
    where slot.n % candidates.candidates = candidates.candidate_rank - 1

),

numbered as (

    select
        slots.*,
        cast(coalesce(done.next_replica, 0) + slots.round as integer) as replica

    from slots
    left join done
        on slots.seed_id = done.seed_id
        and slots.strategy = done.strategy
        and slots.discipline_id = done.discipline_id
        and slots.target_difficulty = done.target_difficulty

),

final as (

    select
        md5(concat_ws('|', strategy, discipline_id, target_difficulty, seed_id, replica)) as job_id,
        plan_id,
        strategy,
        replica,
        seed_id,
        discipline_id,
        category_id,
        language,
        seed_question,
        seed_options,
        seed_answer,
        seed_difficulty,
        target_difficulty,
        bands.grade_band as target_grade_band,
        -- first every (bucket, seed) once, then the further rounds: a capped run still covers many buckets
        row_number() over (order by round, md5(concat_ws('|', strategy, discipline_id, target_difficulty, seed_id,
            replica))) as job_order

    from numbered
    inner join {{ ref('difficulty_bands') }} as bands on numbered.target_difficulty = bands.difficulty

)

select * from final
