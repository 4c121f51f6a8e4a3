-- Paired bootstrap replicates of each model's change against the baseline per benchmark: the mean primary-metric
-- difference over one resample of the items both scored. The comparison and headline marts take their confidence
-- intervals from these (the headline's and the average's from the per-replicate average over benchmarks).
{{ config(materialized='table') }}

with

bootstrap as (

    {{ paired_bootstrap(ref('int_eval_paired_items'), ['model_id', 'benchmark'], 'value_delta') }}

),

benchmarks as (

    select * from {{ ref('eval_benchmarks') }}

),

final as (

    select
        bootstrap.model_id,
        bootstrap.benchmark,
        benchmarks.in_headline,
        bootstrap.replicate,
        bootstrap.mean_delta

    from bootstrap
    inner join benchmarks using (benchmark)

)

select * from final
