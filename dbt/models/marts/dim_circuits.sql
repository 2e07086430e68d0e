with

circuits as (
    select * from {{ ref('stg_circuits') }}
)

select
    circuit_id,
    circuit_ref,
    circuit_name,
    circuit_location,
    circuit_country,
    latitude,
    longitude,
    altitude_m

from circuits
