-- Accuracy per discipline x difficulty bucket from benchmark evaluation. No eval results exist until the eval
-- stage lands (it will ref its marts here), so this is an empty model with the final contract: the mixing
-- ratios already read it, and a bucket with a deficiency gets more weight.
select
    cast(null as varchar) as model_id,
    cast(null as varchar) as discipline_id,
    cast(null as integer) as difficulty,
    cast(null as integer) as eval_items,
    cast(null as double) as accuracy,
    cast(null as double) as deficiency
where false
