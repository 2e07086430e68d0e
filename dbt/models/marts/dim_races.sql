with

races as (
    select * from {{ ref('stg_races') }}
),

circuits as (
    select * from {{ ref('stg_circuits') }}
),

-- the race before each one in its season: championship standings "before" a race are its standings
with_previous as (
    select
        races.*,
        lag(races.race_id) over (partition by races.season order by races.round) as previous_race_id_in_season

    from races
)

select
    with_previous.race_id,
    with_previous.circuit_id,
    with_previous.season,
    with_previous.round,
    with_previous.race_name,
    with_previous.race_date,
    with_previous.race_time,
    with_previous.qualifying_date,
    with_previous.sprint_date,
    case when with_previous.sprint_date is not null then 1 else 0 end as has_sprint,
    with_previous.previous_race_id_in_season,
    circuits.circuit_ref,
    circuits.circuit_name,
    circuits.circuit_country

from with_previous
left join circuits on with_previous.circuit_id = circuits.circuit_id
