-- Each distinct seed with the discipline its subject hint names: a discipline id directly, or an MMLU/CMMLU
-- subject through the taxonomy's subject map. Hints that map to nothing keep a null discipline.
with

seeds as (

    select * from {{ ref('int_seeds_deduplicated') }}

),

disciplines as (

    select * from {{ ref('taxonomy_disciplines') }}

),

subject_map as (

    select distinct subject, discipline_id from {{ ref('taxonomy_subject_map') }}

),

mapped as (

    select
        seeds.*,
        coalesce(disciplines.discipline_id, subject_map.discipline_id) as hinted_discipline_id

    from seeds
    left join disciplines on seeds.subject_hint = disciplines.discipline_id
    left join subject_map on seeds.subject_hint = subject_map.subject

)

select * from mapped
