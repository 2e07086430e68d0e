with

source as (
    select * from {{ source('formula1', 'sprint_results') }}
),

renamed as (
    select
        ---------- ids
        resultid as sprint_result_id,
        raceid as race_id,
        driverid as driver_id,
        constructorid as constructor_id,
        statusid as status_id,
        number as car_number,

        ---------- numerics
        grid,
        position,
        positiontext as position_text,
        positionorder as position_order,
        points,
        laps,
        milliseconds as sprint_time_ms,
        time as sprint_time_text,
        fastestlap as fastest_lap,
        rank as fastest_lap_rank,
        {{ duration_to_ms_int('fastestlaptime') }} as fastest_lap_time_ms

    from source
)

select * from renamed
