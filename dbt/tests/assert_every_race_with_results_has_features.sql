-- The feature table covers every race that has results, and every driver in it.
select results.race_id, results.driver_id
from {{ ref('fct_results') }} as results
left join {{ ref('features') }} as features
    on results.race_id = features.RACE_ID
    and results.driver_id = features.DRIVER_ID
where features.RACE_ID is null
