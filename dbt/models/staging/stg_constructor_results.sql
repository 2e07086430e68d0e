with

source as (
    select * from {{ source('formula1', 'constructor_results') }}
),

renamed as (
    select
        ---------- ids
        constructorresultsid as constructor_result_id,
        raceid as race_id,
        constructorid as constructor_id,

        ---------- numerics
        points,

        ---------- text
        status as result_status

    from source
)

select * from renamed
