with

results as (
    select * from {{ ref('stg_results') }}
),

races as (
    select * from {{ ref('stg_races') }}
),

circuits as (
    select * from {{ ref('stg_circuits') }}
),

drivers as (
    select * from {{ ref('stg_drivers') }}
),

constructors as (
    select * from {{ ref('stg_constructors') }}
),

status as (
    select * from {{ ref('stg_status') }}
),

enriched as (
    select
        ---------- ids
        results.result_id,
        results.race_id,
        results.driver_id,
        results.constructor_id,
        races.circuit_id,
        results.status_id,

        ---------- race context
        races.season,
        races.round,
        races.race_name,
        races.race_date,
        circuits.circuit_ref,
        circuits.circuit_name,
        circuits.circuit_country,

        ---------- driver and constructor
        drivers.driver_ref,
        drivers.driver_name,
        drivers.driver_nationality,
        drivers.date_of_birth,
        {{ age_in_years('drivers.date_of_birth', 'races.race_date') }} as driver_age_years,
        constructors.constructor_ref,
        constructors.constructor_name,

        ---------- outcome
        results.grid,
        results.position,
        results.position_text,
        results.position_order,
        results.points,
        results.laps,
        results.race_time_ms,
        results.fastest_lap,
        results.fastest_lap_rank,
        results.fastest_lap_time_ms,
        status.status,
        case when results.position is null then 1 else 0 end as is_not_classified

    from results
    inner join races on results.race_id = races.race_id
    left join circuits on races.circuit_id = circuits.circuit_id
    left join drivers on results.driver_id = drivers.driver_id
    left join constructors on results.constructor_id = constructors.constructor_id
    left join status on results.status_id = status.status_id
)

select * from enriched
