{#
  Paired bootstrap of a mean difference. For each group of `relation` (the `group_columns`), `replicates`
  resamples of its n rows with replacement, and each resample's mean of `value_column`: one row per group and
  replicate. A draw is a hash of the group, the replicate and the draw number, so the same rows always give the
  same resamples (and the same interval), and every group's replicate r is drawn independently of the others'.
  Rows are placed by (benchmark, item_id), which `relation` must have.
#}
{% macro paired_bootstrap(relation, group_columns, value_column, replicates=none) %}
{%- set reps = replicates if replicates is not none else var('eval_bootstrap_replicates') -%}
{%- set cols = group_columns | join(', ') -%}
with

indexed as (

    select
        {{ cols }},
        {{ value_column }} as bootstrap_value,
        row_number() over (partition by {{ cols }} order by benchmark, item_id) - 1 as position

    from {{ relation }}

),

groups as (

    select {{ cols }}, count(*) as n from indexed group by all

),

draws as (

    select
        {{ cols }},
        replicate,
        cast(hash({{ cols }}, replicate, draw) % cast(n as ubigint) as bigint) as position

    from (
        select groups.*, replicates.replicate, unnest(range(groups.n)) as draw
        from groups
        cross join range({{ reps }}) as replicates(replicate)
    )

)

select
    {{ cols }},
    replicate,
    avg(indexed.bootstrap_value) as mean_delta

from draws
inner join indexed using ({{ cols }}, position)
group by all
{% endmacro %}
