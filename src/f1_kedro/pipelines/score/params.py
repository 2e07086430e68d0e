"""The `score` parameters, validated before any work (pydantic, unknown keys refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NEXT = "next"


class Params(BaseModel):
    """What to score and where: `races` (next or race ids) or `seasons`, the dbt selection."""

    model_config = ConfigDict(extra="forbid")

    # "next" (the next race without results that has a grid), race ids, or null (use seasons)
    races: Literal["next"] | list[int] | None = None
    # years; null with races null = the latest season with feature rows
    seasons: list[int] = Field(default_factory=list)
    select: list[str] = Field(min_length=1)
    vars: dict[str, Any] = Field(default_factory=dict)
    predictions_table: str
    monitoring_table: str = "FORMULA1.ML.MODEL_MONITORING"
    latest_table: str = "FORMULA1.ML.PREDICTIONS_LATEST"
    explanations_table: str = "FORMULA1.ML.PREDICTION_EXPLANATIONS"
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
                    raise ValueError(f"score.races: {token!r} is not 'next' or a race id")
                ids.append(int(token))
        if not ids:
            raise ValueError("score.races: an empty list; give 'next', race ids or null")
        return sorted(set(ids))

    @field_validator("seasons", mode="before")
    @classmethod
    def _seasons(cls, value: Any) -> list[int]:
        from .nodes import normalise_seasons  # one season grammar for the node and the params

        return normalise_seasons(value)

    @model_validator(mode="after")
    def _one_selection(self) -> Params:
        if self.races is not None and self.seasons:
            raise ValueError(
                "score.races and score.seasons are both set: choose races or seasons "
                "(e.g. --params=score.seasons=null,score.races=next)"
            )
        return self

    def dbt_vars(self, model_name: str) -> dict[str, Any]:
        """The dbt vars of the scoring run: the selection, the model name and the user's vars."""
        return {
            **self.vars,
            "score_races": self.races or [],
            "score_seasons": self.seasons,
            "registry_model_name": model_name,
            "monitoring_last_n_races": self.monitoring_last_n_races,
        }
