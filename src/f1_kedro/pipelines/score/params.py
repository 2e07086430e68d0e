"""The `score` parameters, validated before any work (pydantic, unknown keys refused)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from f1_kedro.params import validate_params
from f1_kedro.params_types import SeasonList

NEXT = "next"


class Params(BaseModel):
    """What to score and where: `races` (next or race ids) or `seasons`, the dbt selection."""

    model_config = ConfigDict(extra="forbid")

    # "next" (the next race without results that has a grid), race ids, or null (use seasons)
    races: Literal["next"] | list[int] | None = None
    # years (f1_kedro.params_types grammar); null with races null = the latest season with rows
    seasons: SeasonList = Field(default_factory=list)
    select: list[str] = Field(min_length=1)
    vars: dict[str, Any] = Field(default_factory=dict)
    # the tables the score build writes, as the catalog names them (conf, never a default here:
    # bench/snowflake_smoke.py renames every database in conf, and a name in code would not move)
    predictions_table: str
    monitoring_table: str
    latest_table: str
    explanations_table: str
    # races the `warn` monitoring test looks back over (dbt var monitoring_last_n_races)
    monitoring_last_n_races: int = Field(default=5, ge=1)

    @field_validator("races", mode="before")
    @classmethod
    def _races(cls, value: Any) -> Any:
        """`next`, a race id, a list of ids, or text "1121 1122" (`--params` splits on commas)."""
        if value is None or (isinstance(value, str) and value.strip().lower() == NEXT):
            return None if value is None else NEXT
        items = value if isinstance(value, list | tuple) else [value]
        ids: list[int] = []
        for item in items:
            tokens = str(item).replace(";", " ").split() if isinstance(item, str) else [item]
            for token in tokens:
                if isinstance(token, bool) or not str(token).isdigit():
                    raise ValueError(f"{token!r} is not 'next' or a race id")
                ids.append(int(token))
        if not ids:
            raise ValueError("an empty list; give 'next', race ids or null")
        return sorted(set(ids))

    @model_validator(mode="after")
    def _one_selection(self) -> Params:
        if self.races is not None and self.seasons:
            raise ValueError(
                "score.races and score.seasons are both set: choose races or seasons "
                "(e.g. --params=score.seasons=null,score.races=next)"
            )
        return self

    @classmethod
    def checked(cls, params: dict[str, Any]) -> Params:
        """The validated parameters; else one `score.<key>: problem` line each, as the hook says."""
        validate_params({"score": params})
        return cls.model_validate(params)

    def request(self, model_name: str, fit_seasons: list[int]) -> dict[str, Any]:
        """The scoring run's request, by dbt var name: the selection, the served model's name,
        monitoring's look-back and the seasons the served version was fit on."""
        return {
            "score_races": self.races or [],
            "score_seasons": self.seasons,
            "registry_model_name": model_name,
            "monitoring_last_n_races": self.monitoring_last_n_races,
            "monitoring_fit_seasons": fit_seasons,
        }


def request_env(request: Mapping[str, Any]) -> dict[str, str]:
    """The request as dbt reads it: environment variable F1_<VAR NAME> holds the var's value as
    JSON, and the dbt project falls back to the var (dbt/macros/score_request.sql; inline in the
    models' yml, where macros are not available; tests/test_contracts.py ties the names).

    Not `--vars`: dbt parses the whole project again whenever the CLI vars change (~1.4 s, every
    new request), but after a changed environment variable only the files that read it."""
    return {f"F1_{name.upper()}": json.dumps(value) for name, value in request.items()}
