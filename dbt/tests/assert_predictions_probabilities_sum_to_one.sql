-- Each row's three class probabilities lie in [0, 1] and sum to 1 within 1e-6.
select
    RACE_ID,
    DRIVER_ID,
    PROB_PODIUM + PROB_POINTS + PROB_NO_POINTS as probability_sum
from {{ ref('predictions') }}
where abs(PROB_PODIUM + PROB_POINTS + PROB_NO_POINTS - 1) > 1e-6
    or least(PROB_PODIUM, PROB_POINTS, PROB_NO_POINTS) < 0
    or greatest(PROB_PODIUM, PROB_POINTS, PROB_NO_POINTS) > 1
