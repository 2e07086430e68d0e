with

source as (
    select * from {{ source('formula1', 'results') }}
),

renamed as (
    select
        ---------- ids
        resultid as result_id,
        raceid as race_id,
        driverid as driver_id,
        constructorid as constructor_id,
        statusid as status_id,
        number as car_number,

        ---------- numerics
        grid,
        -- NULL when not classified; position_order ranks every starter
        position,
        positiontext as position_text,
        positionorder as position_order,
        points,
        laps,
        milliseconds as race_time_ms,
        -- the winner's race time or the gap to the winner ('+5.478', '+1 Lap')
        time as race_time_text,
        fastestlap as fastest_lap,
        rank as fastest_lap_rank,
        {{ duration_to_ms_int('fastestlaptime') }} as fastest_lap_time_ms,
        fastestlapspeed as fastest_lap_speed_kph

    from source
)

select * from renamed
