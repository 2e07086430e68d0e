{#-
    One prediction for every feature row of the scored seasons, and none for any other row.
    The seasons come from the model's var score_seasons (null or []: the latest season in FEATURES).
-#}
{%- set raw = var('score_seasons') -%}
{%- set seasons = [] if raw is none else (raw if raw is iterable and raw is not string else [raw]) -%}

with

features as (
    select * from {{ ref('features') }}
),

expected as (
    select RACE_ID, DRIVER_ID
    from features
    {%- if seasons %}
    where SEASON in ({% for season in seasons %}{{ season | int }}{{ ", " if not loop.last }}{% endfor %})
    {%- else %}
    where SEASON = (select max(SEASON) from features)
    {%- endif %}
),

predicted as (
    select RACE_ID, DRIVER_ID from {{ ref('predictions') }}
)

select
    coalesce(expected.RACE_ID, predicted.RACE_ID) as RACE_ID,
    coalesce(expected.DRIVER_ID, predicted.DRIVER_ID) as DRIVER_ID,
    case
        when predicted.RACE_ID is null then 'feature row without a prediction'
        else 'prediction for a row outside the scored seasons'
    end as problem
from expected
full outer join predicted
    on expected.RACE_ID = predicted.RACE_ID
    and expected.DRIVER_ID = predicted.DRIVER_ID
where expected.RACE_ID is null or predicted.RACE_ID is null
