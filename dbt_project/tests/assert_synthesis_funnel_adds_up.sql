-- Every job is kept or has exactly one reject reason, and each funnel stage is no larger than the one before.
select *
from {{ ref('fct_synthesis_funnel') }}
where jobs != kept + rejected_invalid_output + rejected_verify_invalid + rejected_difficulty_degraded
        + rejected_refine_invalid + rejected_refine_disagreement + rejected_refine_unresolved
    or not (jobs >= generated and generated >= verified and verified >= reached_difficulty
        and reached_difficulty >= kept)
