{#-
    Qualifying pace per race and driver, known on Saturday night: the driver's best lap of Q1-Q3
    as a gap (%) to the pole lap (the race's best) and to his team-mate's best lap.
-#}
with

qualifying as (
    select * from {{ ref('stg_qualifying') }}
),

-- best of Q1-Q3; coalesce rotations keep it portable (Snowflake's LEAST is NULL if any arg is)
best_laps as (
    select
        race_id,
        driver_id,
        constructor_id,
        least(
            coalesce(q1_ms, q2_ms, q3_ms),
            coalesce(q2_ms, q3_ms, q1_ms),
            coalesce(q3_ms, q1_ms, q2_ms)
        ) as best_ms
    from qualifying
),

-- the team-mate's best lap: a self-join, not a correlated subquery (Snowflake refuses those
-- with a non-equality correlation)
teammates as (
    select
        drivers.race_id,
        drivers.driver_id,
        min(mates.best_ms) as teammate_best_ms
    from best_laps as drivers
    inner join best_laps as mates
        on drivers.race_id = mates.race_id
        and drivers.constructor_id = mates.constructor_id
        and drivers.driver_id <> mates.driver_id
    group by drivers.race_id, drivers.driver_id
),

with_references as (
    select
        best_laps.*,
        min(best_laps.best_ms) over (partition by best_laps.race_id) as pole_ms,
        teammates.teammate_best_ms
    from best_laps
    left join teammates
        on best_laps.race_id = teammates.race_id
        and best_laps.driver_id = teammates.driver_id
)

select
    race_id,
    driver_id,
    best_ms as qualifying_best_ms,
    100.0 * (best_ms - pole_ms) / pole_ms as gap_to_pole_pct,
    100.0 * (best_ms - teammate_best_ms) / teammate_best_ms as gap_to_teammate_pct
from with_references
