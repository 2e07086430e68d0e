"""Snowflake datasets: a table as a Snowpark DataFrame, a JSON or joblib file on a stage.

Both use the run's one session (`SESSIONS`) unless given their own (tests, notebooks).
"""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import joblib
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.snowflake import SnowparkTableDataset
from snowflake.snowpark import DataFrame, Session

from f1_kedro.engines.snowflake.credentials import first_lines
from f1_kedro.engines.snowflake.session import SESSIONS, scrub_current
from f1_kedro.engines.snowflake.sql import stage_reference
from f1_kedro.identifiers import identifier
from f1_kedro.tables import BuiltTable

logger = logging.getLogger(__name__)


class SnowflakeTableDataset(SnowparkTableDataset):
    """A Snowflake table as a Snowpark DataFrame: kedro-datasets' dataset adapted to this project.

    Why a subclass rather than `kedro_datasets.snowflake.SnowparkTableDataset` as is:
    - it uses the run's one shared session (`SESSIONS`), which the hook creates from the checked
      credentials, tags per node and closes; the parent opens its own from per-entry credentials,
      so catalog entries would need credentials and resolving the catalog would need them too;
    - it takes the three-part name `table: FORMULA1.ML.FEATURES`, like `DuckDBTableDataset`, with
      every part validated before it reaches SQL;
    - saving a `f1_kedro.tables.BuiltTable` (a table dbt built) checks that the table exists
      instead of writing it; the parent only accepts DataFrames;
    - `_exists` does not print the table (the parent calls `.show()`).
    """

    DEFAULT_SAVE_ARGS: dict[str, Any] = {"mode": "overwrite"}

    def __init__(
        self,
        *,
        table: str,
        save_args: dict[str, Any] | None = None,
        session: Session | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        database, schema, name = _three_part(table)
        # The parent insists on a credentials dict; it only feeds the session, which we override.
        super().__init__(
            table_name=name,
            schema=schema,
            database=database,
            save_args=save_args,
            credentials={"database": database, "schema": schema},
            session=session,
            metadata=metadata,
        )
        self._table = f"{database}.{schema}.{name}"

    @property
    def session(self) -> Session:
        return self._session or SESSIONS.get()

    def load(self) -> DataFrame:
        return self.session.table(self._table)

    def save(self, data: pd.DataFrame | DataFrame | BuiltTable) -> None:
        if isinstance(data, BuiltTable):
            data.check(self._table)
            if not self._exists():
                raise DatasetError(f"{data.built_by} did not build {self._table}")
            return
        super().save(data)

    def _exists(self) -> bool:
        try:
            self.session.table(self._table).schema  # noqa: B018 - resolving the schema is the check
        except Exception as err:  # Snowpark raises several types for "does not exist"
            logger.debug("table %s not found: %s", self._table, str(err)[:200])
            return False
        return True

    def _describe(self) -> dict[str, Any]:
        # kedro-viz shows `path` as the dataset's location: the table's three-part name
        return {"table": self._table, "path": self._table}

    def preview(self, nrows: int = 10) -> dict[str, Any]:
        """Rows for kedro-viz's preview panel."""
        return self.load().limit(nrows).to_pandas().astype(str).to_dict(orient="split")


class SnowflakeStageDataset(AbstractDataset[Any, Any]):
    """A JSON document or a joblib pickle kept in a file on a Snowflake stage.

    Under `--env snowflake` what one stage hands the next (the fitted pipeline and classifier,
    the train summary and metrics, the registered version's pointer, the run reports) lives on
    `@FORMULA1.ML.ML_STAGE`, not on the disk of the machine that ran it: train, register and
    score may run as three processes on three machines. Each save replaces the file
    (PUT OVERWRITE = TRUE, uncompressed); nothing is read until `load`. (`location`, not
    `filepath`: Kedro would turn a `filepath` into a local absolute path.)
    """

    _FORMATS = ("json", "joblib")

    def __init__(
        self,
        *,
        location: str,
        format: str = "json",
        session: Session | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        stage, _, path = location.partition("/")
        parts = [p for p in path.split("/") if p]
        if not parts or any(
            not re.fullmatch(r"[A-Za-z0-9_.-]+", p) or p in (".", "..") for p in parts
        ):
            raise DatasetError(f"stage file {location!r} must be @DB.SCHEMA.STAGE/<folder>/<file>")
        if format not in self._FORMATS:
            raise DatasetError(f"stage file format {format!r}: use one of {self._FORMATS}")
        self._location = f"{stage_reference(stage)}/{'/'.join(parts)}"
        self._format = format
        self._session = session
        self.metadata = metadata

    @property
    def session(self) -> Session:
        return self._session or SESSIONS.get()

    def load(self) -> Any:
        try:
            content = self.session.file.get_stream(self._location).read()
        except Exception as err:
            raise DatasetError(
                f"cannot read {self._location}: {first_lines(scrub_current(str(err)))} "
                "(did the stage that writes it run?)"
            ) from None
        if self._format == "json":
            return json.loads(content)
        return joblib.load(io.BytesIO(content))

    def save(self, data: Any) -> None:
        buffer = io.BytesIO()
        if self._format == "json":
            buffer.write(json.dumps(data, indent=2, default=str).encode())
        else:
            joblib.dump(data, buffer)
        buffer.seek(0)
        result = self.session.file.put_stream(
            buffer, self._location, auto_compress=False, overwrite=True
        )
        if result.status != "UPLOADED":
            raise DatasetError(f"PUT {self._location}: {result.status} {result.message}")

    def _exists(self) -> bool:
        try:
            self.session.file.get_stream(self._location).read(1)
        except Exception:
            return False
        return True

    def _describe(self) -> dict[str, Any]:
        return {"location": self._location, "format": self._format}


def _three_part(table: str) -> tuple[str, str, str]:
    parts = table.split(".")
    if len(parts) != 3:
        raise DatasetError(f"table {table!r} must be DATABASE.SCHEMA.TABLE")
    database, schema, name = (identifier(p, "table name part") for p in parts)
    return database.upper(), schema.upper(), name.upper()
