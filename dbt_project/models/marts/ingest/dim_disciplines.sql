-- The discipline taxonomy with its category and the benchmark subjects that map to it.
with

disciplines as (

    select * from {{ ref('taxonomy_disciplines') }}

),

categories as (

    select * from {{ ref('taxonomy_categories') }}

),

subjects as (

    select
        discipline_id,
        list(subject order by subject) filter (where benchmark = 'mmlu') as mmlu_subjects,
        list(subject order by subject) filter (where benchmark = 'cmmlu') as cmmlu_subjects,
        list(subject order by subject) filter (where benchmark = 'ceval') as ceval_subjects

    from {{ ref('taxonomy_subject_map') }}
    group by 1

),

final as (

    select
        disciplines.discipline_id,
        disciplines.discipline_name,
        disciplines.category_id,
        categories.category_name,
        disciplines.category_id = 'stem' as is_stem,
        coalesce(subjects.mmlu_subjects, []) as mmlu_subjects,
        coalesce(subjects.cmmlu_subjects, []) as cmmlu_subjects,
        coalesce(subjects.ceval_subjects, []) as ceval_subjects,
        disciplines.taxonomy_version

    from disciplines
    inner join categories using (category_id)
    left join subjects using (discipline_id)

)

select * from final
