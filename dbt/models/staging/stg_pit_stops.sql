with

source as (
    select * from {{ source('formula1', 'pit_stops') }}
),

renamed as (
    select
        ---------- ids
        raceid as race_id,
        driverid as driver_id,
        stop as stop_number,
        lap,

        ---------- timestamps
        time as stop_time_of_day,

        ---------- numerics
        duration as stop_duration_text,
        -- 'SS.mmm', or 'M:SS.mmm' for a stop under red flag
        coalesce(cast(milliseconds as {{ dbt.type_bigint() }}), {{ duration_to_ms_int('duration') }}) as stop_duration_ms

    from source
)

select * from renamed
