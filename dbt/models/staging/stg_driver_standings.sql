with

source as (
    select * from {{ source('formula1', 'driver_standings') }}
),

renamed as (
    select
        ---------- ids
        driverstandingsid as driver_standing_id,
        raceid as race_id,
        driverid as driver_id,

        ---------- numerics (standings after the race)
        points,
        position,
        positiontext as position_text,
        wins

    from source
)

select * from renamed
