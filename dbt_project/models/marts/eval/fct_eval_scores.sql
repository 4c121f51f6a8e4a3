-- Every evaluated model's result on every benchmark it was scored on, in the benchmark's primary metric, with its
-- standard error as lm-eval reports it (the <metric>_stderr score row; null for scores written before it existed).
with

scores as (

    select * from {{ ref('stg_eval__scores') }}

),

benchmarks as (

    select * from {{ ref('eval_benchmarks') }}

),

final as (

    select
        scores.model_id,
        scores.model_id = '{{ var("eval_baseline_model_id") }}' as is_baseline,
        scores.eval_run_id,
        scores.evaluated_at,
        scores.benchmark,
        benchmarks.display_name,
        benchmarks.in_headline,
        scores.metric,
        scores.metric_value,
        stderr.metric_value as metric_stderr,
        scores.items,
        scores.num_fewshot,
        scores.model_path

    from scores
    inner join benchmarks
        on scores.benchmark = benchmarks.benchmark
        and scores.metric = benchmarks.primary_metric
    left join scores as stderr
        on stderr.model_id = scores.model_id
        and stderr.benchmark = scores.benchmark
        and stderr.metric = scores.metric || '_stderr'

)

select * from final
