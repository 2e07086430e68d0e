"""Schema of `params:features` (conf/*/parameters_features.yml); see f1_kedro.params."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictInt

from f1_kedro.params import Schema
from f1_kedro.params_types import NonEmptyText, ThreePartName


class DbtVars(Schema):
    """Overrides of the feature build's dbt vars; their defaults are dbt/dbt_project.yml's `vars:`
    (a test ties the names). None, or absent, leaves dbt's default in force.
    """

    # races in the rolling form windows: at least the race before
    form_window: Annotated[StrictInt, Field(ge=1)] | None = None
    include_post_race_features: StrictBool | None = None


class Params(Schema):
    select: Annotated[list[NonEmptyText], Field(min_length=1)]
    exclude: list[NonEmptyText] = []
    vars: DbtVars = DbtVars()
    feature_table: ThreePartName
