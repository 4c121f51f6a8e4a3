-- A subject name shared by MMLU and CMMLU must map to the same discipline in both.
select subject, count(distinct discipline_id) as disciplines
from {{ ref('taxonomy_subject_map') }}
group by subject
having count(distinct discipline_id) > 1
