"""SQL identifiers that come from configuration are checked here before they reach any SQL."""

from __future__ import annotations

import re

# Unquoted identifiers as both DuckDB and Snowflake accept them: letter or underscore first.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")


class InvalidIdentifierError(ValueError):
    """A database, schema, table, column or stage name from configuration is not a plain name."""


def identifier(name: object, what: str = "identifier") -> str:
    """Return `name` if it is a plain SQL identifier, else raise naming what it was for."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise InvalidIdentifierError(
            f"{what} {name!r} is not a plain SQL identifier "
            "(letters, digits, _ and $, starting with a letter or _)"
        )
    return name


def qualified(*parts: str, what: str = "table") -> str:
    """Join validated identifiers into a dotted name, e.g. RAW.FORMULA1.RESULTS."""
    return ".".join(identifier(p, what) for p in parts)
