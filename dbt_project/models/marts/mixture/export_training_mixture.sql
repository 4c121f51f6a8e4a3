-- The mixture's samples in their shuffled order, where the mixture_export DAG reads them.
{{ config(
    materialized='external',
    location="s3://" ~ env_var('BOOSTQA_LAKE_BUCKET', 'boostqa')
        ~ "/mixtures/" ~ env_var('BOOSTQA_MIXTURE_VERSION', var('mixture_version')) ~ "/selection.parquet",
    format='parquet'
) }}

select * from {{ ref('fct_training_mixture') }}
order by sample_order
