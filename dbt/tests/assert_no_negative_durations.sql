-- Every duration the staging layer parsed is a time, so never below zero.
select 'lap_times' as source_table, race_id, driver_id, lap_time_ms as duration_ms
from {{ ref('stg_lap_times') }}
where lap_time_ms < 0

union all

select 'pit_stops', race_id, driver_id, stop_duration_ms
from {{ ref('stg_pit_stops') }}
where stop_duration_ms < 0

union all

select 'results', race_id, driver_id, race_time_ms
from {{ ref('stg_results') }}
where race_time_ms < 0 or fastest_lap_time_ms < 0

union all

select 'qualifying', race_id, driver_id, least(q1_ms, q2_ms, q3_ms)
from {{ ref('stg_qualifying') }}
where q1_ms < 0 or q2_ms < 0 or q3_ms < 0
