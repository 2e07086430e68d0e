"""Where in a CSV file DuckDB's error is: the column of a bad byte or short row, a key's lines.

Only the error path reads these; they re-read the file with Python's `csv` to name what DuckDB's
message leaves out.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Mapping
from typing import Any

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")


def column_hint(message: str, path: str, header: list[str]) -> str:
    """Name the column where DuckDB's CSV error names only the line: a bad byte, a short row."""
    match = _CSV_LINE.search(message)
    if match is None or "converting column" in message:
        return ""  # no line, or DuckDB already names the column
    with open(path, "rb") as handle:
        raw = next(itertools.islice(handle, int(match.group(1)) - 1, None), b"")
    # latin-1 maps every byte to one character, so the fields keep their exact bytes
    fields = next(csv.reader([raw.decode("latin-1").rstrip("\r\n")]), [])
    for name, field in zip(header, fields, strict=False):
        try:
            field.encode("latin-1").decode("utf-8")
        except UnicodeDecodeError:
            return f"\nColumn {name} holds bytes that are not UTF-8"
    if len(fields) < len(header):
        return (
            f"\nThe line has {len(fields)} of {len(header)} columns: it ends before column "
            f"{header[len(fields)]} (a truncated line?)"
        )
    if len(fields) > len(header):
        return f"\nThe line has {len(fields)} fields, the header {len(header)} columns"
    return ""


def lines_with_key(path: str, values: Mapping[str, Any]) -> list[int]:
    """Physical line numbers of the rows whose key columns hold `values` (the error path only)."""
    wanted = {name: str(value) for name, value in values.items()}
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.DictReader(handle)
        return [
            reader.line_num
            for row in reader
            if all((row.get(name) or "").strip() == value for name, value in wanted.items())
        ][:10]
