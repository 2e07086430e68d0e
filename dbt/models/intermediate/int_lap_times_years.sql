with

lap_times as (
    select * from {{ ref('stg_lap_times') }}
),

races as (
    select * from {{ ref('stg_races') }}
),

joined as (
    select
        lap_times.race_id,
        lap_times.driver_id,
        lap_times.lap,
        races.season as race_year,
        races.round,
        races.circuit_id,
        lap_times.position,
        lap_times.lap_time_ms

    from lap_times
    inner join races on lap_times.race_id = races.race_id
)

select * from joined
