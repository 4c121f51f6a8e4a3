-- Every QC'd item is kept or removed at exactly one step, each step's survivors are no more than the previous
-- step's, and the filter reasons add up to the items the filters removed.
select *
from {{ ref('fct_qc_funnel') }}
where synthesized != kept + removed_by_filters + removed_contaminated + removed_exact_duplicates
        + removed_near_duplicates
    or removed_by_filters != {{ code_columns('qc_filter_reason', 'removed_', ' + ') }}
    or not (synthesized >= after_filters and after_filters >= after_decontamination
        and after_decontamination >= after_exact_dedup and after_exact_dedup >= kept)
