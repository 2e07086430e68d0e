{#- Whole-day age in years between two dates (fractional), the same on every adapter. -#}
{% macro age_in_years(born, on_date) -%}
    round({{ dbt.datediff(born, on_date, 'day') }} / 365.25, 2)
{%- endmacro %}
