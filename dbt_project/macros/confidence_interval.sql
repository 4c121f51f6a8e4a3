{#- The two ends of the var('eval_ci_level') percentile interval of a bootstrap column, in percentage points. -#}
{% macro ci_low_points(column) -%}
    100 * quantile_cont({{ column }}, {{ (1 - var('eval_ci_level')) / 2 }})
{%- endmacro %}

{% macro ci_high_points(column) -%}
    100 * quantile_cont({{ column }}, {{ 1 - (1 - var('eval_ci_level')) / 2 }})
{%- endmacro %}
