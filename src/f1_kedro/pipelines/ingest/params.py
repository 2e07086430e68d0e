"""Schema of `params:ingest` (conf/*/parameters_ingest.yml); see f1_kedro.params."""

from __future__ import annotations

from typing import Annotated, Any

import fsspec
from pydantic import AfterValidator, Field, StrictBool, model_validator

from f1_kedro.ingest_spec import COLUMN_TYPES
from f1_kedro.params import Schema
from f1_kedro.params_types import Identifier, NonEmptyText


def _column_type(value: str) -> str:
    if value.upper() not in COLUMN_TYPES:
        raise ValueError(f"unknown column type {value!r}; use one of {sorted(COLUMN_TYPES)}")
    return value


def _source_uri(value: str) -> str:
    """A folder, a protocol fsspec knows (s3://, gs://, ...) or a Snowflake stage (@DB.SCHEMA.S)."""
    if value.startswith("@") or "://" not in value:
        return value
    protocol = value.split("://", 1)[0]
    if protocol not in fsspec.available_protocols():
        raise ValueError(f"unsupported protocol {protocol!r}: use a folder, s3://, gs://, ...")
    return value


ColumnType = Annotated[str, AfterValidator(_column_type)]
SourceUri = Annotated[NonEmptyText, AfterValidator(_source_uri)]


class Table(Schema):
    columns: Annotated[dict[Identifier, ColumnType], Field(min_length=1)]
    primary_key: list[Identifier] = []
    # races.csv: next season's rows carry only the first columns
    ragged_tail: StrictBool = False

    @model_validator(mode="after")
    def _key_in_columns(self) -> Table:
        unknown = [c for c in self.primary_key if c not in self.columns]
        if unknown:
            raise ValueError(f"primary_key names columns the table does not have: {unknown}")
        return self


class Params(Schema):
    # None: local_source_dir when it exists, else public_source_uri
    source_uri: SourceUri | None = None
    public_source_uri: SourceUri
    storage_options: dict[str, Any] = {}
    public_storage_options: dict[str, Any] = {}
    local_source_dir: NonEmptyText
    raw_database: Identifier = "RAW"
    raw_schema: Identifier = "FORMULA1"
    null_string: str = "\\N"
    tables: Annotated[dict[Identifier, Table], Field(min_length=1)]
