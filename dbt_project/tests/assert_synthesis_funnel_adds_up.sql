-- Every job is kept or has exactly one reject reason, and each funnel stage is no larger than the one before.
select *
from {{ ref('fct_synthesis_funnel') }}
where jobs != kept + {{ code_columns('synthesis_reject_reason', 'rejected_', ' + ') }}
    or not (jobs >= generated and generated >= verified and verified >= reached_difficulty
        and reached_difficulty >= kept)
