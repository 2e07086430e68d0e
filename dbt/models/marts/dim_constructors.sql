with

constructors as (
    select * from {{ ref('stg_constructors') }}
)

select
    constructor_id,
    constructor_ref,
    constructor_name,
    constructor_nationality

from constructors
