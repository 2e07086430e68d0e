{#-
    The latest run (max SCORED_AT) scored every feature row of its selection and nothing else.
    The selection (macros/score_request.sql): score_races ("next" = the first race by season and
    round whose rows have no LABEL and a GRID, or race ids), else score_seasons ([]: the latest
    season in FEATURES).
-#}
{%- set races = score_request('score_races') -%}
{%- set raw = score_request('score_seasons') -%}
{%- set seasons = [] if raw is none else (raw if raw is iterable and raw is not string else [raw]) -%}

with

features as (
    select * from {{ ref('features') }}
),

{%- if races == 'next' %}
next_race as (
    select RACE_ID
    from features
    where LABEL is null and GRID is not null
    order by SEASON, ROUND
    limit 1
),
{%- endif %}

expected as (
    select RACE_ID, DRIVER_ID
    from features
    {%- if races == 'next' %}
    where RACE_ID in (select RACE_ID from next_race)
    {%- elif races %}
    where RACE_ID in ({% for race in races %}{{ race | int }}{{ ", " if not loop.last }}{% endfor %})
    {%- elif seasons %}
    where SEASON in ({% for season in seasons %}{{ season | int }}{{ ", " if not loop.last }}{% endfor %})
    {%- else %}
    where SEASON = (select max(SEASON) from features)
    {%- endif %}
),

predicted as (
    select RACE_ID, DRIVER_ID
    from {{ ref('predictions') }}
    where SCORED_AT = (select max(SCORED_AT) from {{ ref('predictions') }})
)

select
    coalesce(expected.RACE_ID, predicted.RACE_ID) as RACE_ID,
    coalesce(expected.DRIVER_ID, predicted.DRIVER_ID) as DRIVER_ID,
    case
        when predicted.RACE_ID is null then 'feature row without a prediction'
        else 'prediction for a row outside the scored selection'
    end as problem
from expected
full outer join predicted
    on expected.RACE_ID = predicted.RACE_ID
    and expected.DRIVER_ID = predicted.DRIVER_ID
where expected.RACE_ID is null or predicted.RACE_ID is null
