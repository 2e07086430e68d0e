-- FEATURES_BUILD is one row and describes the FEATURES table beside it (rows counted by the same
-- build): scoring compares it with the served version's feature build (issue 15.5).
with

build as (
    select * from {{ ref('features_build') }}
),

features as (
    select count(*) as n from {{ ref('features') }}
)

select build.FEATURES_ROWS, features.n
from build cross join features
where build.FEATURES_ROWS != features.n
   or (select count(*) from build) != 1
