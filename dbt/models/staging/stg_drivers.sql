with

source as (
    select * from {{ source('formula1', 'drivers') }}
),

renamed as (
    select
        ---------- ids
        driverid as driver_id,
        driverref as driver_ref,
        code as driver_code,
        number as driver_number,

        ---------- text
        forename,
        surname,
        forename || ' ' || surname as driver_name,
        nationality as driver_nationality,
        url as driver_url,

        ---------- dates
        cast(dob as date) as date_of_birth

    from source
)

select * from renamed
