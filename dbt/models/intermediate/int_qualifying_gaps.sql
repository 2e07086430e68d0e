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

with_references as (
    select
        best_laps.*,
        min(best_ms) over (partition by race_id) as pole_ms,
        (
            select min(mates.best_ms)
            from best_laps as mates
            where mates.race_id = best_laps.race_id
                and mates.constructor_id = best_laps.constructor_id
                and mates.driver_id <> best_laps.driver_id
        ) as teammate_best_ms
    from best_laps
)

select
    race_id,
    driver_id,
    best_ms as qualifying_best_ms,
    100.0 * (best_ms - pole_ms) / pole_ms as gap_to_pole_pct,
    100.0 * (best_ms - teammate_best_ms) / teammate_best_ms as gap_to_teammate_pct
from with_references
