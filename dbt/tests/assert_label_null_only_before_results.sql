-- LABEL is NULL exactly for the rows of races that have no results yet (upcoming races).
select features.RACE_ID, features.DRIVER_ID, features.LABEL
from {{ ref('features') }} as features
left join (select distinct race_id from {{ ref('fct_results') }}) as run
    on features.RACE_ID = run.race_id
where (features.LABEL is null) != (run.race_id is null)
