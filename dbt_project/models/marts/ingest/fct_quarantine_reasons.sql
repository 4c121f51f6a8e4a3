-- Quarantined rows per stage, source, ingest date and reason, with an example row number to look at.
with

quarantined as (

    select * from {{ ref('stg_seeds__quarantined_rows') }}

),

final as (

    select
        stage,
        source_name,
        ingest_date,
        reason,
        count(*) as quarantined_rows,
        min(source_row_number) as example_row_number

    from quarantined
    group by 1, 2, 3, 4

)

select * from final
