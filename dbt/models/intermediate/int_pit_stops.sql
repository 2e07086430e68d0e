with

pit_stops as (
    select * from {{ ref('stg_pit_stops') }}
),

per_race_and_driver as (
    select
        race_id,
        driver_id,
        count(*) as pit_stop_count,
        sum(stop_duration_ms) as total_pit_stop_ms,
        min(stop_duration_ms) as fastest_pit_stop_ms,
        max(stop_duration_ms) as slowest_pit_stop_ms,
        min(lap) as first_stop_lap

    from pit_stops
    group by race_id, driver_id
)

select * from per_race_and_driver
