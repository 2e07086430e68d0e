with

source as (
    select * from {{ source('formula1', 'qualifying') }}
),

renamed as (
    select
        ---------- ids
        qualifyid as qualifying_id,
        raceid as race_id,
        driverid as driver_id,
        constructorid as constructor_id,
        number as car_number,

        ---------- numerics
        position as qualifying_position,
        {{ duration_to_ms_int('q1') }} as q1_ms,
        {{ duration_to_ms_int('q2') }} as q2_ms,
        {{ duration_to_ms_int('q3') }} as q3_ms

    from source
)

select * from renamed
