with

source as (
    select * from {{ source('formula1', 'lap_times') }}
),

renamed as (
    select
        ---------- ids
        raceid as race_id,
        driverid as driver_id,
        lap,

        ---------- numerics
        position,
        time as lap_time_text,
        -- the raw milliseconds when present, else parsed from 'M:SS.mmm'
        coalesce(cast(milliseconds as {{ dbt.type_bigint() }}), {{ duration_to_ms_int('time') }}) as lap_time_ms

    from source
)

select * from renamed
