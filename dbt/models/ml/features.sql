{#-
    The ML feature table: one row per race and driver, FORMULA1.ML.FEATURES.
    Every feature is known before the race starts: form windows end at the previous race and
    standings are those after the previous race of the season. Column names are UPPER_SNAKE so
    that DuckDB and Snowflake return the same names.
    A race that has qualifying but no results yet (the race of the coming Sunday) has a row per
    driver too, with FINISH_POSITION and LABEL NULL: that is the row scoring predicts. Its GRID is
    the qualifying position (Ergast records the starting grid only with the results).
-#}
{%- set n = var('form_window') | int -%}
{%- set driver_window = "partition by driver_id order by season, round rows between " ~ n ~ " preceding and 1 preceding" -%}
{%- set driver_history = "partition by driver_id order by season, round rows between unbounded preceding and 1 preceding" -%}
{%- set circuit_history = "partition by driver_id, circuit_id order by season, round rows between unbounded preceding and 1 preceding" -%}
{%- set constructor_window = "partition by constructor_id order by season, round rows between " ~ n ~ " preceding and 1 preceding" -%}
{%- set constructor_season = "partition by constructor_id, season order by round rows between unbounded preceding and 1 preceding" -%}

with

results as (
    select * from {{ ref('fct_results') }}
),

races as (
    select * from {{ ref('dim_races') }}
),

drivers as (
    select * from {{ ref('dim_drivers') }}
),

constructors as (
    select * from {{ ref('dim_constructors') }}
),

qualifying as (
    select * from {{ ref('stg_qualifying') }}
),

driver_standings as (
    select * from {{ ref('stg_driver_standings') }}
),

constructor_standings as (
    select * from {{ ref('stg_constructor_standings') }}
),

qualifying_gaps as (
    select * from {{ ref('int_qualifying_gaps') }}
),

circuit_overtaking as (
    select * from {{ ref('int_circuit_overtaking') }}
),

sprint_results as (
    select * from {{ ref('stg_sprint_results') }}
),

{% if var('include_post_race_features') %}
pit_stops as (
    select * from {{ ref('int_pit_stops') }}
),
{% endif %}

-- one row per race and driver: in a shared drive (1950s) keep the driver's better-placed car
driver_results as (
    select *
    from (
        select
            results.*,
            case when results.position between 1 and 3 then 1 else 0 end as is_podium,
            case when results.points > 0 then 1 else 0 end as scored_points,
            row_number() over (
                partition by results.race_id, results.driver_id
                order by results.position_order, results.result_id
            ) as car_rank
        from results
    ) as ranked
    where car_rank = 1
),

-- the entries of races that have qualifying but no results yet: outcomes unknown (NULL)
upcoming_entries as (
    select
        cast(null as {{ dbt.type_int() }}) as result_id,
        qualifying.race_id,
        qualifying.driver_id,
        qualifying.constructor_id,
        races.circuit_id,
        races.season,
        races.round,
        races.race_date,
        {{ age_in_years('drivers.date_of_birth', 'races.race_date') }} as driver_age_years,
        qualifying.qualifying_position as grid,
        cast(null as {{ dbt.type_int() }}) as position,
        cast(null as {{ dbt.type_int() }}) as is_not_classified,
        cast(null as {{ dbt.type_int() }}) as is_podium,
        cast(null as {{ dbt.type_int() }}) as scored_points

    from qualifying
    inner join races on qualifying.race_id = races.race_id
    left join drivers on qualifying.driver_id = drivers.driver_id
    where not exists (select 1 from results where results.race_id = qualifying.race_id)
),

-- every (race, driver) to describe: run races from their results, upcoming ones from qualifying
entries as (
    select
        result_id, race_id, driver_id, constructor_id, circuit_id, season, round, race_date,
        driver_age_years, grid, position, is_not_classified, is_podium, scored_points
    from driver_results
    union all
    select
        result_id, race_id, driver_id, constructor_id, circuit_id, season, round, race_date,
        driver_age_years, grid, position, is_not_classified, is_podium, scored_points
    from upcoming_entries
),

-- the driver's form over the previous N races (any season), and experience
driver_form as (
    select
        race_id,
        driver_id,
        avg(position) over ({{ driver_window }}) as driver_avg_finish,
        avg(1.0 * is_not_classified) over ({{ driver_window }}) as driver_dnf_rate,
        avg(1.0 * is_podium) over ({{ driver_window }}) as driver_podium_rate,
        avg(1.0 * scored_points) over ({{ driver_window }}) as driver_points_rate,
        -- places gained from the grid (pit-lane starts and unclassified finishes left out)
        avg(nullif(grid, 0) - position) over ({{ driver_window }}) as driver_avg_positions_gained,
        -- result_id: races run, so an upcoming race never counts as one before the next
        count(result_id) over ({{ driver_history }}) as driver_races_before,
        avg(position) over ({{ circuit_history }}) as driver_circuit_avg_finish_before,
        count(result_id) over ({{ circuit_history }}) as driver_circuit_races_before

    from entries
),

-- each constructor's race, all its cars together
constructor_races as (
    select
        race_id,
        constructor_id,
        season,
        round,
        count(*) as n_cars,
        count(position) as n_classified,
        sum(position) as sum_finish,
        sum(is_not_classified) as n_not_classified,
        sum(case when position between 1 and 3 then 1 else 0 end) as n_podiums,
        sum(nullif(grid, 0)) as sum_grid,
        count(nullif(grid, 0)) as n_grid

    from results
    group by race_id, constructor_id, season, round
    union all
    -- an upcoming race's constructors, so that their form reaches its rows (no outcomes yet)
    select race_id, constructor_id, season, round, 0, 0, null, null, null, null, 0
    from upcoming_entries
    group by race_id, constructor_id, season, round
),

-- the constructor's form over its previous N races, per car
constructor_form as (
    select
        race_id,
        constructor_id,
        sum(sum_finish) over ({{ constructor_window }})
            / nullif(sum(n_classified) over ({{ constructor_window }}), 0) as constructor_avg_finish,
        1.0 * sum(n_not_classified) over ({{ constructor_window }})
            / nullif(sum(n_cars) over ({{ constructor_window }}), 0) as constructor_dnf_rate,
        1.0 * sum(n_podiums) over ({{ constructor_window }})
            / nullif(sum(n_cars) over ({{ constructor_window }}), 0) as constructor_podium_rate,
        -- the season's earlier races only: a new car resets the pecking order
        1.0 * sum(sum_grid) over ({{ constructor_season }})
            / nullif(sum(n_grid) over ({{ constructor_season }}), 0) as constructor_avg_grid_season

    from constructor_races
),

features as (
    select
        ---------- keys and context
        entries.race_id as RACE_ID,
        entries.driver_id as DRIVER_ID,
        entries.constructor_id as CONSTRUCTOR_ID,
        entries.circuit_id as CIRCUIT_ID,
        entries.season as SEASON,
        entries.round as ROUND,
        entries.race_date as RACE_DATE,
        races.circuit_ref as CIRCUIT_REF,
        constructors.constructor_ref as CONSTRUCTOR_REF,
        drivers.driver_ref as DRIVER_REF,

        ---------- starting position
        entries.grid as GRID,
        qualifying.qualifying_position as QUALIFYING_POSITION,
        entries.driver_age_years as DRIVER_AGE_YEARS,

        ---------- form over the previous N races (var form_window; the names keep _LAST_5)
        driver_form.driver_avg_finish as DRIVER_AVG_FINISH_LAST_5,
        driver_form.driver_dnf_rate as DRIVER_DNF_RATE_LAST_5,
        driver_form.driver_podium_rate as DRIVER_PODIUM_RATE_LAST_5,
        driver_form.driver_points_rate as DRIVER_POINTS_RATE_LAST_5,
        constructor_form.constructor_avg_finish as CONSTRUCTOR_AVG_FINISH_LAST_5,
        constructor_form.constructor_dnf_rate as CONSTRUCTOR_DNF_RATE_LAST_5,
        constructor_form.constructor_podium_rate as CONSTRUCTOR_PODIUM_RATE_LAST_5,

        ---------- championship after the previous race of the season (round 1: NULL / 0)
        driver_standings.position as DRIVER_CHAMPIONSHIP_POSITION_BEFORE,
        coalesce(driver_standings.points, 0) as DRIVER_POINTS_BEFORE,
        constructor_standings.position as CONSTRUCTOR_CHAMPIONSHIP_POSITION_BEFORE,
        coalesce(constructor_standings.points, 0) as CONSTRUCTOR_POINTS_BEFORE,

        ---------- experience
        driver_form.driver_races_before as DRIVER_RACES_BEFORE,
        driver_form.driver_circuit_races_before as DRIVER_CIRCUIT_RACES_BEFORE,
        driver_form.driver_circuit_avg_finish_before as DRIVER_CIRCUIT_AVG_FINISH_BEFORE,

        ---------- issue 17: qualifying pace, grid penalties, places gained, the team's grid
        -- (after the older columns: their order is a contract, test_features_pipeline)
        qualifying_gaps.gap_to_pole_pct as QUALIFYING_GAP_TO_POLE_PCT,
        qualifying_gaps.gap_to_teammate_pct as QUALIFYING_GAP_TO_TEAMMATE_PCT,
        -- grid penalties and pit-lane starts (slot = field size); 0 before the results (GRID then
        -- is the qualifying position), so an upcoming race's row differs here as in GRID
        case when entries.grid = 0 then count(*) over (partition by entries.race_id)
            else entries.grid end - qualifying.qualifying_position as GRID_MINUS_QUALIFYING,
        driver_form.driver_avg_positions_gained as DRIVER_AVG_POSITIONS_GAINED_LAST_5,
        constructor_form.constructor_avg_grid_season as CONSTRUCTOR_AVG_GRID_SEASON_BEFORE,
        -- the circuit's earlier seasons: places moved from grid to flag (low = grid order holds)
        circuit_overtaking.avg_places_moved_before as CIRCUIT_AVG_PLACES_MOVED_BEFORE,
        -- Saturday's sprint, run before the race: its finishing order; NULL without a sprint
        sprint_results.position_order as SPRINT_POSITION,

        {% if var('include_post_race_features') %}
        ---------- known only after the race (var include_post_race_features)
        pit_stops.pit_stop_count as PIT_STOPS_IN_RACE,
        {% endif %}

        ---------- outcome: never a feature; NULL while the race has not been run
        entries.position as FINISH_POSITION,
        case
            when entries.result_id is null then null
            when entries.position between 1 and 3 then 0
            when entries.position between 4 and 10 then 1
            else 2
        end as LABEL

    from entries
    inner join races on entries.race_id = races.race_id
    left join drivers on entries.driver_id = drivers.driver_id
    left join constructors on entries.constructor_id = constructors.constructor_id
    left join qualifying
        on entries.race_id = qualifying.race_id
        and entries.driver_id = qualifying.driver_id
    left join qualifying_gaps
        on entries.race_id = qualifying_gaps.race_id
        and entries.driver_id = qualifying_gaps.driver_id
    left join circuit_overtaking
        on entries.race_id = circuit_overtaking.race_id
    left join sprint_results
        on entries.race_id = sprint_results.race_id
        and entries.driver_id = sprint_results.driver_id
    left join driver_form
        on entries.race_id = driver_form.race_id
        and entries.driver_id = driver_form.driver_id
    left join constructor_form
        on entries.race_id = constructor_form.race_id
        and entries.constructor_id = constructor_form.constructor_id
    left join driver_standings
        on races.previous_race_id_in_season = driver_standings.race_id
        and entries.driver_id = driver_standings.driver_id
    left join constructor_standings
        on races.previous_race_id_in_season = constructor_standings.race_id
        and entries.constructor_id = constructor_standings.constructor_id
    {% if var('include_post_race_features') %}
    left join pit_stops
        on entries.race_id = pit_stops.race_id
        and entries.driver_id = pit_stops.driver_id
    {% endif %}
)

select * from features
