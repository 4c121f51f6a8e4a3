-- Exactly one mixing policy is active.
select count(*) as active from {{ ref('mixing_policy') }} where is_active having count(*) <> 1
