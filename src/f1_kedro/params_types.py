"""Field types shared by the parameter schemas (`f1_kedro.pipelines.<group>.params`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from f1_kedro.identifiers import identifier


def _plain_name(value: str) -> str:
    return identifier(value, "name")


def _three_part(value: str) -> str:
    parts = value.split(".")
    if len(parts) != 3:  # DATABASE.SCHEMA.OBJECT
        raise ValueError(f"expected DATABASE.SCHEMA.NAME, got {value!r}")
    for part in parts:
        identifier(part, "name part")
    return value


# A plain SQL identifier (letters, digits, _ and $): pasted into SQL, so checked.
Identifier = Annotated[str, AfterValidator(_plain_name)]
# A fully qualified object name, e.g. FORMULA1.ML.FEATURES.
ThreePartName = Annotated[str, AfterValidator(_three_part)]
NonEmptyText = Annotated[str, Field(min_length=1)]
