{#-
    FORMULA1.ML.FEATURES_BUILD: one row saying how FORMULA1.ML.FEATURES was built (issue 15.5).
    BUILD names the dbt vars that shape FEATURES, interpreted as features.sql interprets them;
    train stamps this row into the registered version (tag features_build) and scoring refuses a
    FEATURES whose BUILD differs from the served version's. FEATURES_ROWS lets scoring see that
    this row describes the FEATURES beside it (a features build stopped between the two).
    tests/score/test_features_build.py ties the vars named here to those features.sql reads.
-#}
{%- set form_window = var('form_window') | int -%}
{%- set post_race = 'true' if var('include_post_race_features') else 'false' -%}

with

features as (
    select * from {{ ref('features') }}
)

select
    -- how FEATURES was built
    'form_window={{ form_window }};include_post_race_features={{ post_race }}' as BUILD,
    {{ form_window }} as FORM_WINDOW,
    {{ post_race }} as INCLUDE_POST_RACE_FEATURES,
    -- what it held
    count(*) as FEATURES_ROWS,
    count(LABEL) as LABELLED_ROWS,
    min(SEASON) as FIRST_SEASON,
    max(SEASON) as LAST_SEASON
from features
