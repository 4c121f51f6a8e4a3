-- The target shares of all buckets sum to 1 (within float tolerance).
select sum(target_share) as total
from {{ ref('fct_mixing_ratios') }}
having abs(sum(target_share) - 1.0) > 1e-9
