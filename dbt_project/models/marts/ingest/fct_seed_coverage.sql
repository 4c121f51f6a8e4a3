-- Distinct seeds per category, discipline (from the subject hint), difficulty hint and language.
with

seeds as (

    select * from {{ ref('int_seeds_subject_mapped') }}

),

disciplines as (

    select * from {{ ref('dim_disciplines') }}

),

final as (

    select
        coalesce(disciplines.category_id, 'unmapped') as category_id,
        coalesce(seeds.hinted_discipline_id, 'unmapped') as discipline_id,
        seeds.difficulty_hint,
        seeds.language,
        count(*) as distinct_seeds

    from seeds
    left join disciplines on seeds.hinted_discipline_id = disciplines.discipline_id
    group by 1, 2, 3, 4

)

select * from final
