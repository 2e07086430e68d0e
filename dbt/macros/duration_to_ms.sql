{#-
    A duration string as whole milliseconds, on every adapter: 'H:MM:SS.mmm', 'M:SS.mmm' or 'SS.mmm'
    (Ergast lap, qualifying and pit-stop times). Anything else, such as a gap '+5.478', is NULL.
-#}
{% macro duration_to_ms(column) -%}
    {%- set num = dbt.type_numeric() -%}
    case
        when {{ column }} is null or {{ column }} like '+%' then null
        when {{ column }} like '%:%:%' then
            {{ dbt.safe_cast(dbt.split_part(column, "':'", 1), num) }} * 3600000
            + {{ dbt.safe_cast(dbt.split_part(column, "':'", 2), num) }} * 60000
            + round({{ dbt.safe_cast(dbt.split_part(column, "':'", 3), num) }} * 1000)
        when {{ column }} like '%:%' then
            {{ dbt.safe_cast(dbt.split_part(column, "':'", 1), num) }} * 60000
            + round({{ dbt.safe_cast(dbt.split_part(column, "':'", 2), num) }} * 1000)
        else round({{ dbt.safe_cast(column, num) }} * 1000)
    end
{%- endmacro %}

{#- duration_to_ms, cast to a whole number. -#}
{% macro duration_to_ms_int(column) -%}
    cast({{ duration_to_ms(column) }} as {{ dbt.type_bigint() }})
{%- endmacro %}
