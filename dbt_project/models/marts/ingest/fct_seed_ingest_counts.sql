-- Seed rows per source, language and ingest date, with the quarantine count of the same partition.
with

seeds as (

    select * from {{ ref('stg_seeds__questions') }}

),

quarantined as (

    select * from {{ ref('stg_seeds__quarantined_rows') }}

),

valid_counts as (

    select
        source_name,
        language,
        ingest_date,
        count(*) as seed_rows,
        count(distinct seed_id) as distinct_seeds,
        count(*) filter (where is_multiple_choice) as multiple_choice_rows,
        count(*) filter (where not is_multiple_choice) as open_ended_rows

    from seeds
    group by 1, 2, 3

),

quarantine_by_partition as (

    select source_name, ingest_date, count(*) as quarantined_rows
    from quarantined
    group by 1, 2

),

final as (

    select
        valid_counts.*,
        coalesce(quarantine_by_partition.quarantined_rows, 0) as source_quarantined_rows

    from valid_counts
    left join quarantine_by_partition using (source_name, ingest_date)

)

select * from final
