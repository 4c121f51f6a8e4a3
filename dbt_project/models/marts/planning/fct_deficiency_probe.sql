-- The closed loop's probe: accuracy per discipline x difficulty bucket of the model under study (the dbt var
-- deficiency_model_id, else the most recently evaluated model that no study trained), and its deficiency = 1 - accuracy / the model's
-- mean accuracy (0 when the bucket is at or above the mean), shrunk toward 0 for buckets with few items
-- (x n / (n + deficiency_prior_items)). fct_mixing_ratios multiplies a bucket's weight by
-- 1 + deficiency_boost x deficiency, so the next generation plan gives weak buckets more quota.
with

items as (

    select * from {{ ref('stg_eval__items') }}
    where discipline_id is not null

),

probed as (

    {% if var('deficiency_model_id') %}
    select '{{ var("deficiency_model_id") }}' as model_id
    {% else %}
    select model_id from items
    where not {{ is_study_model('model_id') }}  -- an anneal probe's arm is no candidate for the next plan
    order by evaluated_at desc, model_id limit 1
    {% endif %}

),

model_items as (

    select items.* from items inner join probed using (model_id)

),

overall as (

    select avg(case when correct then 1.0 else 0.0 end) as mean_accuracy from model_items

),

buckets as (

    select
        model_id,
        discipline_id,
        difficulty,
        count(*) as eval_items,
        avg(case when correct then 1.0 else 0.0 end) as accuracy

    from model_items
    group by all

),

final as (

    select
        buckets.model_id,
        buckets.discipline_id,
        buckets.difficulty,
        cast(buckets.eval_items as integer) as eval_items,
        buckets.accuracy,
        case when overall.mean_accuracy > 0
            then greatest(0.0, 1 - buckets.accuracy / overall.mean_accuracy)
                * buckets.eval_items / (buckets.eval_items + {{ var('deficiency_prior_items') }})
            else 0.0
        end as deficiency

    from buckets
    cross join overall

)

select * from final
