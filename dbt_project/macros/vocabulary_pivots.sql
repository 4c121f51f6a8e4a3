{#- Pivots and tests over a vocabulary (macros/vocabulary.sql, generated from boostqa/vocabulary.py). -#}

{#- One `count(*) filter (where column = 'code') as prefix_code` per code, comma-separated, in vocabulary order. -#}
{% macro count_per_code(column, name, prefix) -%}
    {%- for code in vocabulary(name) %}
        count(*) filter (where {{ column }} = '{{ code }}') as {{ prefix }}{{ code }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The pivot columns `prefix_code` of a vocabulary joined by `separator` (select lists, sums). -#}
{% macro code_columns(name, prefix, separator=", ") -%}
    {%- for code in vocabulary(name) -%}{{ prefix }}{{ code }}{{ separator if not loop.last }}{%- endfor -%}
{%- endmacro %}

{#- Generic test: every non-null value of the column is a code of the named vocabulary. -#}
{% test in_vocabulary(model, column_name, vocabulary_name) %}
select {{ column_name }} as value, count(*) as n_records
from {{ model }}
where {{ column_name }} not in (
    {%- for code in vocabulary(vocabulary_name) %}'{{ code }}'{{ ", " if not loop.last }}{% endfor -%}
)
group by 1
{% endtest %}
