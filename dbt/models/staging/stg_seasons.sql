with

source as (
    select * from {{ source('formula1', 'seasons') }}
),

renamed as (
    select
        year as season,
        url as season_url

    from source
)

select * from renamed
