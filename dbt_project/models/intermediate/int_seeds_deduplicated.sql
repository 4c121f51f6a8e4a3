-- One row per distinct seed: the first time its content was seen (earliest date, then source, then row).
with

seeds as (

    select * from {{ ref('stg_seeds__questions') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by seed_id
            order by ingest_date, source_name, source_row_number
        ) as occurrence,
        count(distinct source_name) over (partition by seed_id) as source_count,
        min(ingest_date) over (partition by seed_id) as first_ingest_date

    from seeds

),

first_seen as (

    select * exclude (occurrence) from ranked where occurrence = 1

)

select * from first_seen
