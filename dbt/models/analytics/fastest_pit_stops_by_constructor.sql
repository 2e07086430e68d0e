{#- The dbt-labs guide's analysis: each constructor's pit-stop times per season, fastest first. -#}
with

pit_stops as (
    select * from {{ ref('fct_pit_stops') }}
),

constructors as (
    select * from {{ ref('dim_constructors') }}
),

-- stops over a minute are red-flag stoppages, not pit work
per_constructor_season as (
    select
        season,
        constructor_id,
        count(*) as pit_stop_count,
        min(stop_duration_ms) as fastest_pit_stop_ms,
        avg(stop_duration_ms) as mean_pit_stop_ms,
        median(stop_duration_ms) as median_pit_stop_ms

    from pit_stops
    where stop_duration_ms < 60000
    group by season, constructor_id
),

ranked as (
    select
        per_constructor_season.season,
        per_constructor_season.constructor_id,
        constructors.constructor_name,
        per_constructor_season.pit_stop_count,
        per_constructor_season.fastest_pit_stop_ms,
        round(per_constructor_season.mean_pit_stop_ms, 1) as mean_pit_stop_ms,
        per_constructor_season.median_pit_stop_ms,
        rank() over (
            partition by per_constructor_season.season
            order by per_constructor_season.mean_pit_stop_ms
        ) as season_rank

    from per_constructor_season
    left join constructors on per_constructor_season.constructor_id = constructors.constructor_id
)

select * from ranked
