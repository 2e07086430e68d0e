"""Schema of `params:bootstrap` (conf/*/parameters_bootstrap.yml); see f1_kedro.params."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from f1_kedro.params import Schema
from f1_kedro.params_types import Identifier, NonEmptyText, ThreePartName


class Params(Schema):
    # database -> its schemas; at least one database, each with at least one schema
    databases: Annotated[
        dict[Identifier, Annotated[list[Identifier], Field(min_length=1)]], Field(min_length=1)
    ]
    # the ML stage, DATABASE.SCHEMA.NAME on both engines (DuckDB: the folder NAME under stage_dir)
    stage: ThreePartName
    # Snowflake only (conf/snowflake): the setup files, run in order
    setup_sql: list[NonEmptyText] | None = None

    @model_validator(mode="after")
    def _stage_in_a_listed_schema(self) -> Params:
        database, schema, _ = str(self.stage).split(".")
        if schema not in self.databases.get(database, []):
            raise ValueError(
                f"stage {self.stage!r} is in {database}.{schema}, which databases does not list"
            )
        return self
