with

source as (
    select * from {{ source('formula1', 'constructor_standings') }}
),

renamed as (
    select
        ---------- ids
        constructorstandingsid as constructor_standing_id,
        raceid as race_id,
        constructorid as constructor_id,

        ---------- numerics (standings after the race)
        points,
        position,
        positiontext as position_text,
        wins

    from source
)

select * from renamed
