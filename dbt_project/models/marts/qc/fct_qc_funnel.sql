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
        count(*) filter (where first_reason = 'missing_answer') as removed_missing_answer,
        count(*) filter (where first_reason = 'malformed_options') as removed_malformed_options,
        count(*) filter (where first_reason = 'length_out_of_bounds') as removed_length_out_of_bounds,
        count(*) filter (where first_reason = 'reasoning_leftover') as removed_reasoning_leftover,
        count(*) filter (where first_reason = 'template_leftover') as removed_template_leftover,
        count(*) filter (where first_reason = 'refusal') as removed_refusal,
        count(*) filter (where first_reason = 'hedging') as removed_hedging,
        count(*) filter (where first_reason = 'language_mismatch') as removed_language_mismatch,
        count(*) filter (where first_reason = 'repeated_ngrams') as removed_repeated_ngrams

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
        removed_missing_answer,
        removed_malformed_options,
        removed_length_out_of_bounds,
        removed_reasoning_leftover,
        removed_template_leftover,
        removed_refusal,
        removed_hedging,
        removed_language_mismatch,
        removed_repeated_ngrams,
        kept / synthesized as pass_rate

    from counted

)

select * from final
