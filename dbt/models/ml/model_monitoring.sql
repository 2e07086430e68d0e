{#-
    FORMULA1.ML.MODEL_MONITORING: how the served version does, per race and per season (LEVEL).
    Metrics use only predictions made before the race's result existed (SCORED_BEFORE_RESULT)
    whose result has since arrived; the grid rule (grid 1-3 podium, 4-10 points, else no points)
    is scored on the same rows, its probabilities being P(class | grid slot) on the fit seasons
    (add-one smoothed) for log loss and Brier. Drift: population stability index of key inputs
    of the scored rows against the fit seasons (monitoring_fit_seasons, [first, last]),
    on ten bins cut at the fit rows' deciles.
-#}
{%- set fit = score_request('monitoring_fit_seasons') -%}
{%- set drift_features = ['GRID', 'DRIVER_AVG_FINISH_LAST_5', 'CONSTRUCTOR_POINTS_BEFORE'] -%}
{%- set eps = 0.0001 -%}

with

features as (
    select * from {{ ref('features') }}
),

served as (
    select * from {{ ref('predictions_latest') }}
),

fit_rows as (
    select * from features
    where SEASON between {{ fit[0] | int }} and {{ fit[1] | int }} and LABEL is not null
),

-- P(class | grid slot) on the fit rows; slot 0 = pit lane / no grid, slots above 20 -> 20
grid_slots as (
    select
        least(greatest(coalesce(GRID, 0), 0), 20) as SLOT,
        sum(case when LABEL = 0 then 1 else 0 end) + 1.0 as N0,
        sum(case when LABEL = 1 then 1 else 0 end) + 1.0 as N1,
        sum(case when LABEL = 2 then 1 else 0 end) + 1.0 as N2
    from fit_rows
    group by 1
),

scored as (
    select
        served.*,
        features.LABEL,
        features.GRID,
        {%- for f in drift_features %}
        features.{{ f }} as IN_{{ f }},
        {%- endfor %}
        least(greatest(coalesce(features.GRID, 0), 0), 20) as SLOT
    from served
    inner join features
        on served.RACE_ID = features.RACE_ID and served.DRIVER_ID = features.DRIVER_ID
),

-- the rows that can be evaluated, once as the model and once as the grid rule
evaluated as (
    select
        RACE_ID, SEASON, 'MODEL' as WHO, LABEL, PREDICTED_LABEL as PREDICTED,
        PROB_PODIUM as P0, PROB_POINTS as P1, PROB_NO_POINTS as P2
    from scored
    where SCORED_BEFORE_RESULT and LABEL is not null
    union all
    select
        scored.RACE_ID, scored.SEASON, 'GRID' as WHO, scored.LABEL,
        case
            when scored.GRID between 1 and 3 then 0 when scored.GRID between 4 and 10 then 1 else 2
        end as PREDICTED,
        coalesce(g.N0 / (g.N0 + g.N1 + g.N2), 1.0 / 3) as P0,
        coalesce(g.N1 / (g.N0 + g.N1 + g.N2), 1.0 / 3) as P1,
        coalesce(g.N2 / (g.N0 + g.N1 + g.N2), 1.0 / 3) as P2
    from scored
    left join grid_slots as g on scored.SLOT = g.SLOT
    where scored.SCORED_BEFORE_RESULT and scored.LABEL is not null
),

{%- for level, key in [('RACE', 'RACE_ID'), ('SEASON', 'SEASON')] %}

counts_{{ level }} as (
    select
        {{ key }} as GROUP_ID,
        WHO,
        count(*) as N,
        avg(case when PREDICTED = LABEL then 1.0 else 0.0 end) as ACCURACY,
        avg(-ln(greatest(case LABEL when 0 then P0 when 1 then P1 else P2 end, 1e-15))) as LOG_LOSS,
        avg(
            power(P0 - case when LABEL = 0 then 1 else 0 end, 2)
            + power(P1 - case when LABEL = 1 then 1 else 0 end, 2)
            + power(P2 - case when LABEL = 2 then 1 else 0 end, 2)
        ) as BRIER,
        {%- for k in [0, 1, 2] %}
        -- F1 of class {{ k }}: 2 TP / (2 TP + FP + FN), 0 when the class is absent and unpredicted
        coalesce(
            2.0 * sum(case when PREDICTED = {{ k }} and LABEL = {{ k }} then 1 else 0 end)
            / nullif(
                sum(case when PREDICTED = {{ k }} then 1 else 0 end)
                + sum(case when LABEL = {{ k }} then 1 else 0 end), 0),
            0
        ) as F1_{{ k }}{{ "," if not loop.last }}
        {%- endfor %}
    from evaluated
    group by 1, 2
),

metrics_{{ level }} as (
    select
        m.GROUP_ID,
        m.N as ROWS_EVALUATED,
        m.ACCURACY as MODEL_ACCURACY,
        (m.F1_0 + m.F1_1 + m.F1_2) / 3 as MODEL_MACRO_F1,
        m.LOG_LOSS as MODEL_LOG_LOSS,
        m.BRIER as MODEL_BRIER,
        g.ACCURACY as GRID_RULE_ACCURACY,
        (g.F1_0 + g.F1_1 + g.F1_2) / 3 as GRID_RULE_MACRO_F1,
        g.LOG_LOSS as GRID_RULE_LOG_LOSS,
        g.BRIER as GRID_RULE_BRIER
    from counts_{{ level }} as m
    inner join counts_{{ level }} as g on m.GROUP_ID = g.GROUP_ID and g.WHO = 'GRID'
    where m.WHO = 'MODEL'
),
{%- endfor %}

{%- for f in drift_features %}

-- {{ f }}: deciles of the fit rows as bin upper edges (ties merge bins), then PSI per group
deciles_{{ f }} as (
    select BIN, max(VALUE) as UPPER
    from (
        select {{ f }} as VALUE, ntile(10) over (order by {{ f }}) as BIN
        from fit_rows where {{ f }} is not null
    ) as ranked
    group by BIN
),

-- (LOWER, UPPER]; the first bin is open below and the last open above
edges_{{ f }} as (
    select
        BIN,
        lag(UPPER) over (order by BIN) as LOWER,
        case when BIN = max(BIN) over () then null else UPPER end as UPPER
    from deciles_{{ f }}
),

binned_{{ f }} as (
    select rows_.GROUP_LEVEL, rows_.GROUP_ID, e.BIN
    from (
        select 'FIT' as GROUP_LEVEL, 0 as GROUP_ID, {{ f }} as VALUE
        from fit_rows where {{ f }} is not null
        union all
        select 'RACE', RACE_ID, IN_{{ f }} from scored where IN_{{ f }} is not null
        union all
        select 'SEASON', SEASON, IN_{{ f }} from scored where IN_{{ f }} is not null
    ) as rows_
    inner join edges_{{ f }} as e
        on (e.LOWER is null or rows_.VALUE > e.LOWER)
        and (e.UPPER is null or rows_.VALUE <= e.UPPER)
),

shares_{{ f }} as (
    select
        GROUP_LEVEL, GROUP_ID, BIN,
        1.0 * count(*) / sum(count(*)) over (partition by GROUP_LEVEL, GROUP_ID) as SHARE
    from binned_{{ f }}
    group by 1, 2, 3
),

psi_{{ f }} as (
    select
        cur.GROUP_LEVEL, cur.GROUP_ID,
        sum(
            (coalesce(cur.SHARE, 0) + {{ eps }} - coalesce(ref.SHARE, 0) - {{ eps }})
            * ln((coalesce(cur.SHARE, 0) + {{ eps }}) / (coalesce(ref.SHARE, 0) + {{ eps }}))
        ) as PSI
    from (
        select g.GROUP_LEVEL, g.GROUP_ID, b.BIN, s.SHARE
        from (select distinct GROUP_LEVEL, GROUP_ID from shares_{{ f }} where GROUP_LEVEL != 'FIT') as g
        cross join (select distinct BIN from edges_{{ f }}) as b
        left join shares_{{ f }} as s
            on s.GROUP_LEVEL = g.GROUP_LEVEL and s.GROUP_ID = g.GROUP_ID and s.BIN = b.BIN
    ) as cur
    left join shares_{{ f }} as ref on ref.GROUP_LEVEL = 'FIT' and ref.BIN = cur.BIN
    group by 1, 2
),
{%- endfor %}

races as (
    select
        'RACE' as LEVEL, RACE_ID as GROUP_ID, min(SEASON) as SEASON, min(ROUND) as ROUND,
        RACE_ID, min(MODEL_NAME) as MODEL_NAME, min(MODEL_VERSION) as MODEL_VERSION,
        count(*) as ROWS_SCORED, max(SCORED_AT) as LAST_SCORED_AT
    from scored
    group by RACE_ID
),

seasons as (
    select
        'SEASON' as LEVEL, SEASON as GROUP_ID, SEASON, cast(null as integer) as ROUND,
        cast(null as bigint) as RACE_ID, min(MODEL_NAME) as MODEL_NAME,
        min(MODEL_VERSION) as MODEL_VERSION, count(*) as ROWS_SCORED,
        max(SCORED_AT) as LAST_SCORED_AT
    from scored
    group by SEASON
),

{%- for level in ['RACE', 'SEASON'] %}

final_{{ level }} as (
    select
        g.LEVEL, g.SEASON, g.ROUND, g.RACE_ID, g.MODEL_NAME, g.MODEL_VERSION, g.ROWS_SCORED,
        g.LAST_SCORED_AT,
        coalesce(m.ROWS_EVALUATED, 0) as ROWS_EVALUATED,
        m.MODEL_ACCURACY, m.MODEL_MACRO_F1, m.MODEL_LOG_LOSS, m.MODEL_BRIER,
        m.GRID_RULE_ACCURACY, m.GRID_RULE_MACRO_F1, m.GRID_RULE_LOG_LOSS, m.GRID_RULE_BRIER,
        {%- for f in drift_features %}
        psi_{{ f }}.PSI as PSI_{{ f }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ 'races' if level == 'RACE' else 'seasons' }} as g
    left join metrics_{{ level }} as m on g.GROUP_ID = m.GROUP_ID
    {%- for f in drift_features %}
    left join psi_{{ f }}
        on psi_{{ f }}.GROUP_LEVEL = '{{ level }}' and psi_{{ f }}.GROUP_ID = g.GROUP_ID
    {%- endfor %}
){{ "," if not loop.last }}
{%- endfor %}

select * from final_RACE
union all
select * from final_SEASON
