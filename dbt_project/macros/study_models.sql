{#- A model a research study evaluated (an anneal probe's arm, named <anneal_probe run id>.<arm> by
    boostqa/studies/anneal.py): its scores are the study's, never the closed loop's model under study. -#}
{% macro is_study_model(column) -%}
starts_with({{ column }}, 'anneal_probe_')
{%- endmacro %}
