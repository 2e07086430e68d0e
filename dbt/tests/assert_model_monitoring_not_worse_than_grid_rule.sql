{#-
    Warns when the served model's macro F1 over the last N evaluated races
    (monitoring_last_n_races, macros/score_request.sql) is below the grid rule's on the same rows.
-#}
{{ config(severity='warn') }}

with

last_races as (
    select *
    from {{ ref('model_monitoring') }}
    where LEVEL = 'RACE' and ROWS_EVALUATED > 0
    order by SEASON desc, ROUND desc
    limit {{ score_request('monitoring_last_n_races') | int }}
)

select
    count(*) as RACES,
    sum(MODEL_MACRO_F1 * ROWS_EVALUATED) / sum(ROWS_EVALUATED) as MODEL_MACRO_F1,
    sum(GRID_RULE_MACRO_F1 * ROWS_EVALUATED) / sum(ROWS_EVALUATED) as GRID_RULE_MACRO_F1
from last_races
having count(*) > 0
    and sum(MODEL_MACRO_F1 * ROWS_EVALUATED) < sum(GRID_RULE_MACRO_F1 * ROWS_EVALUATED)
