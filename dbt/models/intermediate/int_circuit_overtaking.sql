{#-
    How hard it is to move up at a circuit, from earlier seasons only: per race, the average
    number of places a classified driver moved between grid and flag (|finish - grid|, pit-lane
    starts left out), averaged over the circuit's races of every earlier season. Known before
    any session of the season; NULL at a circuit's first season.
-#}
with

results as (
    select * from {{ ref('stg_results') }}
),

races as (
    select * from {{ ref('stg_races') }}
),

-- one row per circuit and season: places moved, summed over its classified starters
circuit_seasons as (
    select
        races.circuit_id,
        races.season,
        sum(abs(results.position - results.grid)) as places_moved,
        count(*) as starters
    from results
    inner join races on results.race_id = races.race_id
    where results.position is not null and results.grid > 0
    group by races.circuit_id, races.season
),

-- every race (upcoming ones too) against its circuit's earlier seasons: a join, not a window,
-- so that a circuit raced twice in a season never sees its own season
overtaking as (
    select
        races.race_id,
        races.circuit_id,
        1.0 * sum(circuit_seasons.places_moved)
            / nullif(sum(circuit_seasons.starters), 0) as avg_places_moved_before,
        count(circuit_seasons.season) as seasons_before
    from races
    left join circuit_seasons
        on races.circuit_id = circuit_seasons.circuit_id
        and circuit_seasons.season < races.season
    group by races.race_id, races.circuit_id
)

select * from overtaking
