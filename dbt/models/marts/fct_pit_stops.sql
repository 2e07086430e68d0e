with

pit_stops as (
    select * from {{ ref('stg_pit_stops') }}
),

races as (
    select * from {{ ref('stg_races') }}
),

results as (
    select * from {{ ref('stg_results') }}
),

-- the car's constructor in that race (a driver has one car per race from 2011, when pit data starts)
race_constructor as (
    select race_id, driver_id, min(constructor_id) as constructor_id
    from results
    group by race_id, driver_id
)

select
    ---------- keys
    pit_stops.race_id,
    pit_stops.driver_id,
    race_constructor.constructor_id,
    pit_stops.stop_number,

    ---------- context
    races.season,
    races.round,
    pit_stops.lap,

    ---------- measures
    pit_stops.stop_duration_ms

from pit_stops
inner join races on pit_stops.race_id = races.race_id
left join race_constructor
    on pit_stops.race_id = race_constructor.race_id
    and pit_stops.driver_id = race_constructor.driver_id
