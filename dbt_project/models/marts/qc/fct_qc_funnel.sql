-- The QC funnel per synthesis run x strategy x target bucket: synthesized -> after filters -> after
-- decontamination -> after exact dedup -> after near dedup (kept), with the count of each first reason.
with

screened as (

    select * from {{ ref('int_qa_items_screened') }}
    where qc_status in ('kept', 'removed')

),

counted as (

    select
        synthesis_run_id,
        strategy,
        discipline_id,
        target_difficulty,
        count(*) as synthesized,
        count(*) filter (where first_qc_step = 'filter') as removed_by_filters,
        count(*) filter (where first_qc_step = 'decontaminate') as removed_contaminated,
        count(*) filter (where first_qc_step = 'exact_dedup') as removed_exact_duplicates,
        count(*) filter (where first_qc_step = 'near_dedup') as removed_near_duplicates,
        count(*) filter (where qc_status = 'kept') as kept,
        {{ count_per_code('first_reason', 'qc_filter_reason', 'removed_') }}

    from screened
    group by all

),

final as (

    select
        synthesis_run_id,
        strategy,
        discipline_id,
        target_difficulty,
        synthesized,
        synthesized - removed_by_filters as after_filters,
        synthesized - removed_by_filters - removed_contaminated as after_decontamination,
        synthesized - removed_by_filters - removed_contaminated - removed_exact_duplicates as after_exact_dedup,
        kept,
        removed_by_filters,
        removed_contaminated,
        removed_exact_duplicates,
        removed_near_duplicates,
        {{ code_columns('qc_filter_reason', 'removed_') }},
        kept / synthesized as pass_rate

    from counted

)

select * from final
