"""Schema of `params:snowflake` (conf/snowflake/parameters_snowflake.yml); see f1_kedro.params."""

from __future__ import annotations

from f1_kedro.params import Schema
from f1_kedro.params_types import Identifier, NonEmptyText, ThreePartName


class Warehouses(Schema):
    loading: Identifier
    transforming: Identifier
    reporting: Identifier


class Roles(Schema):
    loader: Identifier
    transformer: Identifier
    reporter: Identifier


class Params(Schema):
    database: Identifier
    warehouses: Warehouses
    roles: Roles
    file_format: ThreePartName
    source_stage: ThreePartName
    source_stage_url: NonEmptyText
    ml_stage: ThreePartName
