with

source as (
    select * from {{ source('formula1', 'constructors') }}
),

renamed as (
    select
        ---------- ids
        constructorid as constructor_id,
        constructorref as constructor_ref,

        ---------- text
        name as constructor_name,
        nationality as constructor_nationality,
        url as constructor_url

    from source
)

select * from renamed
