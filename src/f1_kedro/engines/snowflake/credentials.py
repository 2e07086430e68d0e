"""Snowflake credentials: from the SNOWFLAKE_* variables and conf/snowflake/credentials.yml.

Secrets (password, key passphrase) are held by `SnowflakeCredentials` only, which never prints
them; `scrub` removes them from any message the engine raises.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from f1_kedro.identifiers import qualified

# Connection parameter -> its one environment variable; the environment wins over the
# credentials file. dbt/profiles.yml reads exactly these names (a test ties the two), so one set
# of variables serves Snowpark and dbt.
ENV_VARS: dict[str, str] = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "password": "SNOWFLAKE_PASSWORD",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_FILE",
    "private_key_file_pwd": "SNOWFLAKE_PRIVATE_KEY_FILE_PWD",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "database": "SNOWFLAKE_DATABASE",
    "schema": "SNOWFLAKE_SCHEMA",
    "host": "SNOWFLAKE_HOST",
    "port": "SNOWFLAKE_PORT",
    "protocol": "SNOWFLAKE_PROTOCOL",
}
# The session's current namespace: snowflake-ml's fit creates an unqualified temporary stage and
# reads an unqualified information_schema, so a session without one fails in `train`.
DEFAULT_NAMESPACE = {"database": "FORMULA1", "schema": "ML"}
_REQUIRED = ("account", "user", "role", "warehouse")
_SECRET_KEYS = frozenset({"password", "private_key_file_pwd", "private_key", "token", "passcode"})
# The key under which the credentials file holds the connection parameters, and the file itself:
# Kedro reads conf/base plus the run environment only, so with `--env snowflake` it is
# conf/snowflake/credentials.yml (git-ignored), never conf/local.
CREDENTIALS_KEY = "snowflake"
CREDENTIALS_FILE = "conf/snowflake/credentials.yml"


class MissingSnowflakeCredentialsError(RuntimeError):
    """`kedro run --env snowflake` was started without the credentials it needs."""


class SnowflakeNamespaceError(RuntimeError):
    """SNOWFLAKE_DATABASE names another database than the one the project's objects live in."""


def check_database(credentials: SnowflakeCredentials, project_database: str) -> None:
    """dbt builds in the session's database while the catalog reads `project_database`: refuse
    a mismatch before any node, instead of dbt building elsewhere and the run failing later."""
    database = str(credentials.values.get("database", "")).upper()
    if database != project_database.upper():
        raise SnowflakeNamespaceError(
            f"SNOWFLAKE_DATABASE is {database}, but this project's Snowflake objects live in "
            f"{project_database} (params snowflake.database, conf/snowflake and sql/snowflake). "
            f"Unset SNOWFLAKE_DATABASE, or rename the project's objects as "
            "bench/snowflake_smoke.py does. Nothing was run."
        )


class SnowflakeConnectionError(RuntimeError):
    """The Snowpark session could not be created (message scrubbed of secrets)."""


@dataclass(frozen=True)
class SnowflakeCredentials:
    """Connection parameters for Snowpark; secrets stay out of repr, str and messages."""

    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sources(
        cls, environ: Mapping[str, str], credentials_file: Mapping[str, Any] | None = None
    ) -> SnowflakeCredentials:
        """Merge `credentials.yml`'s `snowflake:` entry with the SNOWFLAKE_* environment variables.

        Non-secret connector options (host, port, protocol, authenticator) may come from the file.
        """
        values = {**DEFAULT_NAMESPACE}
        values.update(
            {k: v for k, v in dict(credentials_file or {}).items() if v not in (None, "")}
        )
        for key, name in ENV_VARS.items():
            if value := environ.get(name):
                values[key] = int(value) if key == "port" else value
        return cls(values)

    def missing(self) -> list[str]:
        """Names of the environment variables still needed, in the order a user sets them."""
        names = [ENV_VARS[k] for k in _REQUIRED[:2] if not self.values.get(k)]
        if not (self.values.get("password") or self.values.get("private_key_file")):
            names.append("SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_FILE")
        names += [ENV_VARS[k] for k in _REQUIRED[2:] if not self.values.get(k)]
        return names

    def require(self) -> None:
        if missing := self.missing():
            raise MissingSnowflakeCredentialsError(
                "Snowflake credentials are missing: "
                + ", ".join(missing)
                + ". Set them as environment variables or under `snowflake:` in "
                f"{CREDENTIALS_FILE} (see docs/snowflake.md). Nothing was run."
            )

    def connection_parameters(self) -> dict[str, Any]:
        """The dict handed to Snowpark; call only where the session is created."""
        return dict(self.values)

    @property
    def namespace(self) -> str:
        """`DATABASE.SCHEMA` the session works in (bootstrap creates it, then uses it)."""
        return qualified(self.values["database"], self.values["schema"], what="namespace")

    def scrub(self, message: str) -> str:
        """`message` with every secret value replaced by ***."""
        for key in _SECRET_KEYS:
            secret = self.values.get(key)
            if secret:
                message = message.replace(str(secret), "***")
        return message

    def __repr__(self) -> str:
        shown = {k: ("***" if k in _SECRET_KEYS else v) for k, v in self.values.items()}
        return f"SnowflakeCredentials({shown})"

    __str__ = __repr__


def export_for_dbt(credentials: SnowflakeCredentials) -> None:
    # dbt's profile reads environment variables only: hand it what the credentials file supplied,
    # under the same names (a key pair from the file reaches dbt as SNOWFLAKE_PRIVATE_KEY_FILE).
    for key, name in ENV_VARS.items():
        value = credentials.values.get(key)
        if value not in (None, "") and not os.environ.get(name):
            os.environ[name] = str(value)


def credentials_from_config(config_loader: Any) -> Mapping[str, Any]:
    try:
        credentials = config_loader["credentials"]
    except Exception:  # no credentials files at all: the environment variables must do
        return {}
    return dict(credentials.get(CREDENTIALS_KEY) or {})


def first_lines(message: str, n: int = 6) -> str:
    """The first `n` lines of a (connector's long) error message."""
    return "\n".join(message.strip().splitlines()[:n])
