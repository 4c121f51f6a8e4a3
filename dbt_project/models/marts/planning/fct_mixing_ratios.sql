-- Target share of every discipline x difficulty bucket under the active mixing policy:
-- weight = category weight x difficulty weight x (1 + deficiency_boost x probed deficiency); shares sum to 1.
with

policy as (

    select * from {{ ref('mixing_policy') }} where is_active

),

disciplines as (

    select * from {{ ref('taxonomy_disciplines') }}

),

category_weights as (

    select * from {{ ref('mixing_category_weights') }} where policy_version in (select policy_version from policy)

),

difficulty_weights as (

    select * from {{ ref('mixing_difficulty_weights') }} where policy_version in (select policy_version from policy)

),

deficiency as (

    select discipline_id, difficulty, max(deficiency) as deficiency
    from {{ ref('fct_deficiency_probe') }}
    group by 1, 2

),

buckets as (

    select
        disciplines.discipline_id,
        disciplines.category_id,
        difficulty_weights.difficulty,
        category_weights.weight as category_weight,
        difficulty_weights.weight as difficulty_weight,
        coalesce(deficiency.deficiency, 0.0) as deficiency,
        policy.deficiency_boost,
        policy.policy_version

    from disciplines
    inner join category_weights on disciplines.category_id = category_weights.category_id
    cross join difficulty_weights
    cross join policy
    left join deficiency
        on disciplines.discipline_id = deficiency.discipline_id
        and difficulty_weights.difficulty = deficiency.difficulty

),

weighted as (

    select
        *,
        category_weight * difficulty_weight * (1 + deficiency_boost * deficiency) as bucket_weight

    from buckets

),

final as (

    select
        *,
        bucket_weight / sum(bucket_weight) over () as target_share

    from weighted

)

select * from final
