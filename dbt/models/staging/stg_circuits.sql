with

source as (
    select * from {{ source('formula1', 'circuits') }}
),

renamed as (
    select
        ---------- ids
        circuitid as circuit_id,
        circuitref as circuit_ref,

        ---------- text
        name as circuit_name,
        location as circuit_location,
        country as circuit_country,
        url as circuit_url,

        ---------- numerics
        lat as latitude,
        lng as longitude,
        alt as altitude_m

    from source
)

select * from renamed
