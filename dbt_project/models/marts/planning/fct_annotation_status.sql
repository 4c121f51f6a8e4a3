-- Seeds per annotation status: annotated + quarantined + pending = all distinct seeds.
with

seeds as (

    select * from {{ ref('int_seeds_annotated') }}

),

final as (

    select annotation_status, count(*) as seeds
    from seeds
    group by 1

)

select * from final
