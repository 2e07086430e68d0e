-- PREDICTED_LABEL is the class with the highest probability (ties go to the lower class).
select
    RACE_ID,
    DRIVER_ID,
    PREDICTED_LABEL,
    PROB_PODIUM,
    PROB_POINTS,
    PROB_NO_POINTS
from {{ ref('predictions') }}
where
    PREDICTED_LABEL != case
        when PROB_PODIUM >= PROB_POINTS and PROB_PODIUM >= PROB_NO_POINTS then 0
        when PROB_POINTS >= PROB_NO_POINTS then 1
        else 2
    end
