"""Field types shared by the parameter schemas (`f1_kedro.pipelines.<group>.params`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

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

# The one season grammar (score.seasons, train.seasons.*; conf/base/parameters_*.yml say it):
# a year (2023), a range as text ("2022-2024"), text of several ("2022 2024"; `kedro run
# --params` splits on commas), or a list of these. A range parameter also takes [first, last].
# Which years exist is the data's to say (score names FEATURES' seasons); train bounds its ranges.
FIRST_SEASON, LAST_SEASON = 1950, 2100


def season_years(value: object) -> list[int]:
    """Seasons as sorted distinct years; null or [] is [] (the caller says what empty means)."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    years: set[int] = set()
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise ValueError(f"{item!r} is not a year")
        for token in str(item).replace(";", " ").split():
            years.update(_years(token))
    return sorted(years)


def season_range(value: object) -> tuple[int, int]:
    """A range of seasons, [first, last] (inclusive), "first-last" or one year, as (first, last).

    A pair's order is left to the caller, which names the range in its message.
    """
    if isinstance(value, list | tuple) and len(value) == 2 and all(map(_one_year, value)):
        return _years(str(value[0]).strip())[0], _years(str(value[1]).strip())[0]
    years = season_years(value)
    if not years or years != list(range(years[0], years[-1] + 1)):
        raise ValueError(f"{value!r} is not [first, last], a year or a range such as '2022-2024'")
    return years[0], years[-1]


def _one_year(item: object) -> bool:
    return (isinstance(item, int) and not isinstance(item, bool)) or (
        isinstance(item, str) and item.strip().isdigit()
    )


def _years(token: str) -> range:
    """A token, 2023 or 2022-2024, as the years it names."""
    first, _, last = token.partition("-")
    if not first.isdigit() or (last and not last.isdigit()) or int(last or first) < int(first):
        raise ValueError(f"{token!r} is not a year or a range of years such as '2022-2024'")
    return range(int(first), int(last or first) + 1)


# Several seasons (score.seasons): sorted years, [] when null.
SeasonList = Annotated[list[int], BeforeValidator(season_years)]
# One range of seasons (train.seasons.*): (first, last).
SeasonRange = Annotated[tuple[int, int], BeforeValidator(season_range)]
