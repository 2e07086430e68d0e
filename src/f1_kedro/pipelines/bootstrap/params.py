"""Schema of `params:bootstrap` (conf/*/parameters_bootstrap.yml); see f1_kedro.params."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from f1_kedro.params import Schema
from f1_kedro.params_types import Identifier, NonEmptyText, ThreePartName


class Params(Schema):
    # database -> its schemas; at least one database, each with at least one schema
    databases: Annotated[
        dict[Identifier, Annotated[list[Identifier], Field(min_length=1)]], Field(min_length=1)
    ]
    stage: Identifier
    # Snowflake only (conf/snowflake): the setup files run in order, and the ML stage's full name
    setup_sql: list[NonEmptyText] | None = None
    ml_stage: ThreePartName | None = None
