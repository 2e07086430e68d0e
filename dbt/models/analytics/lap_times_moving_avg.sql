{#- The dbt-labs guide's analysis: mean lap time per season and its moving average over seasons. -#}
with

lap_times as (
    select * from {{ ref('fct_lap_times') }}
),

per_season as (
    select
        season,
        count(*) as lap_count,
        avg(lap_time_ms) as mean_lap_time_ms

    from lap_times
    -- laps over two minutes are safety cars, red flags and pit laps
    where lap_time_ms < 120000
    group by season
),

moving_average as (
    select
        season,
        lap_count,
        round(mean_lap_time_ms, 1) as mean_lap_time_ms,
        round(avg(mean_lap_time_ms) over (
            order by season rows between 4 preceding and current row
        ), 1) as moving_avg_5_seasons_ms

    from per_season
)

select * from moving_average
