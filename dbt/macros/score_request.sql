{#-
    A var of the score build's request (score_races, score_seasons, registry_model_name,
    monitoring_last_n_races, monitoring_fit_seasons): environment variable F1_<NAME>, holding the
    value as JSON, when set (the score node sets them: f1_kedro.pipelines.score.params.request_env),
    else the var (`--vars`, then dbt_project.yml). An environment variable and not a var, because
    dbt re-parses the whole project when --vars change and only the files that read a changed
    environment variable otherwise. The models' yml, where macros are not available, repeat this
    expression inline (tests/test_contracts.py ties them).
-#}
{% macro score_request(name) -%}
    {{- return(fromjson(env_var('F1_' ~ (name | upper), tojson(var(name))))) -}}
{%- endmacro %}
