{#-
    The served version's latest prediction per race and driver. The served version is the one the
    most recent scoring run used; PREDICTIONS holds one row per key and version, so the rows of
    that version are already the latest ones.
-#}
with

predictions as (
    select * from {{ ref('predictions') }}
),

served as (
    select MODEL_NAME, MODEL_VERSION
    from predictions
    order by SCORED_AT desc, MODEL_VERSION desc
    limit 1
)

select predictions.*
from predictions
inner join served
    on predictions.MODEL_NAME = served.MODEL_NAME
    and predictions.MODEL_VERSION = served.MODEL_VERSION
