with

source as (
    select * from {{ source('formula1', 'races') }}
),

renamed as (
    select
        ---------- ids
        raceid as race_id,
        circuitid as circuit_id,

        ---------- numerics
        year as season,
        round,

        ---------- text
        name as race_name,
        url as race_url,

        ---------- dates and times (the session times are UTC)
        cast(date as date) as race_date,
        time as race_time,
        fp1_date,
        fp1_time,
        fp2_date,
        fp2_time,
        fp3_date,
        fp3_time,
        quali_date as qualifying_date,
        quali_time as qualifying_time,
        sprint_date,
        sprint_time

    from source
)

select * from renamed
