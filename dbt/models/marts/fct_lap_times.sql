with

lap_times as (
    select * from {{ ref('int_lap_times_years') }}
)

select
    race_id,
    driver_id,
    lap,
    race_year as season,
    round,
    circuit_id,
    position,
    lap_time_ms

from lap_times
