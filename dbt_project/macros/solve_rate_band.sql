{#- The difficulty band a solve rate stands for: band n for a rate at or above the n-th floor of
    var('solve_rate_band_floors'), the band after the last floor below it (boostqa/synthesize/solve.py). -#}
{% macro solve_rate_band(rate) -%}
case
    when {{ rate }} is null then null
    {%- for floor in var('solve_rate_band_floors') %}
    when {{ rate }} >= {{ floor }} then {{ loop.index }}
    {%- endfor %}
    else {{ var('solve_rate_band_floors') | length + 1 }}
end
{%- endmacro %}
