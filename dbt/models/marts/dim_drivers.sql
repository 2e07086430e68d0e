with

drivers as (
    select * from {{ ref('stg_drivers') }}
)

select
    driver_id,
    driver_ref,
    driver_code,
    driver_number,
    driver_name,
    forename,
    surname,
    driver_nationality,
    date_of_birth

from drivers
