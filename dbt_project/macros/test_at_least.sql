{#- Generic test: the model has at least `min_value` of count(distinct column) (use column '*' for rows). -#}
{% test at_least(model, column_name, min_value) %}
select n from (
    select {% if column_name == '*' %}count(*){% else %}count(distinct {{ column_name }}){% endif %} as n
    from {{ model }}
) where n < {{ min_value }}
{% endtest %}
