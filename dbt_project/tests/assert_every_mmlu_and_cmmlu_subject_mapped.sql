-- MMLU has 57 subjects and CMMLU 67: the taxonomy must map all of them.
select benchmark, count(*) as subjects
from {{ ref('taxonomy_subject_map') }}
group by benchmark
having (benchmark = 'mmlu' and count(*) <> 57) or (benchmark = 'cmmlu' and count(*) <> 67)
