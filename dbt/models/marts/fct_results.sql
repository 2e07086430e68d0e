with

results as (
    select * from {{ ref('int_results_enriched') }}
)

select
    ---------- keys
    result_id,
    race_id,
    driver_id,
    constructor_id,
    circuit_id,
    status_id,

    ---------- context
    season,
    round,
    race_date,
    driver_age_years,

    ---------- outcome
    grid,
    position,
    position_text,
    position_order,
    points,
    laps,
    race_time_ms,
    fastest_lap,
    fastest_lap_rank,
    fastest_lap_time_ms,
    status,
    is_not_classified

from results
