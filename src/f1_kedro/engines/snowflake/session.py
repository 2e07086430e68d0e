"""The run's one Snowpark session (`SESSIONS`) and the Kedro hook that opens, tags and closes it.

The session is created lazily from the checked credentials on the first query, query-tagged with
the pipeline and node (`f1_kedro pipeline=<p> node=<n>`), and closed at the end of the run.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl
from snowflake.snowpark import Session

from f1_kedro.engines.snowflake.credentials import (
    DEFAULT_NAMESPACE,
    SnowflakeConnectionError,
    SnowflakeCredentials,
    check_database,
    credentials_from_config,
    export_for_dbt,
)

logger = logging.getLogger(__name__)


class SnowparkSessions:
    """Holds the one Snowpark session of a run: created on first use, tagged, closed at the end."""

    def __init__(self) -> None:
        self._credentials: SnowflakeCredentials | None = None
        self._session: Session | None = None
        self._owned = False
        self.query_tag = "f1_kedro"
        self._tag_warning_shown = False

    def configure(self, credentials: SnowflakeCredentials) -> None:
        self._credentials = credentials

    def use(self, session: Session) -> None:
        """Use a session made elsewhere (Snowpark local testing, a notebook); it is not closed."""
        self._session, self._owned = session, False

    def get(self) -> Session:
        if self._session is None:
            self._session, self._owned = self._create(), True
            self._apply_tag()
        return self._session

    def _create(self) -> Session:
        credentials = self._credentials or SnowflakeCredentials.from_sources(os.environ)
        credentials.require()
        params = credentials.connection_parameters()
        params.setdefault("session_parameters", {})["QUERY_TAG"] = self.query_tag
        try:
            return Session.builder.configs(params).create()
        except Exception as err:  # any connector failure: re-raise without secrets or chain
            account, user = params.get("account"), params.get("user")
            host = params.get("host") or f"{account}.snowflakecomputing.com"
            raise SnowflakeConnectionError(
                f"could not open a Snowflake session for account {account!r} at {host} as "
                f"{user!r}: " + credentials.scrub(str(err))
            ) from None

    @property
    def namespace(self) -> str:
        credentials = self._credentials or SnowflakeCredentials.from_sources(os.environ)
        return credentials.namespace

    def set_query_tag(self, tag: str) -> None:
        self.query_tag = tag
        if self._session is not None:
            self._apply_tag()

    def _apply_tag(self) -> None:
        # The tag is for finding the run's queries in QUERY_HISTORY: useful, never worth a failure
        # (the emulators used in tests, fakesnow and Snowpark local testing, reject it).
        try:
            self._session.query_tag = self.query_tag  # type: ignore[union-attr]
        except Exception as err:
            if not self._tag_warning_shown:
                logger.warning("could not set the Snowflake query tag: %s", str(err)[:200])
                self._tag_warning_shown = True

    def close(self) -> None:
        session, owned = self._session, self._owned
        self._session, self._owned, self._credentials = None, False, None
        if session is not None and owned:
            try:
                session.close()
            except Exception as err:  # closing is cleanup: report, do not mask the run's result
                logger.warning("closing the Snowflake session failed: %s", str(err)[:200])


SESSIONS = SnowparkSessions()


class SnowflakeSessionHook:
    """Checks credentials before any node runs, tags queries per node, closes the session.

    Active only when the configuration has a `snowflake` parameters group, i.e. in
    `--env snowflake` (conf/snowflake/parameters_snowflake.yml); the local engine never sees it.
    """

    def __init__(
        self, sessions: SnowparkSessions = SESSIONS, environ: Mapping[str, str] | None = None
    ):
        self._sessions = sessions
        self._environ = environ
        self._active = False
        self._file_credentials: Mapping[str, Any] = {}
        self._database = DEFAULT_NAMESPACE["database"]
        self._pipeline = "__default__"

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        settings = context.params.get("snowflake") or {}
        self._active = bool(settings)
        if self._active:
            self._file_credentials = credentials_from_config(context.config_loader)
            self._database = settings.get("database", DEFAULT_NAMESPACE["database"])

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if not self._active:
            return
        environ = os.environ if self._environ is None else self._environ
        credentials = SnowflakeCredentials.from_sources(environ, self._file_credentials)
        credentials.require()  # fail before the first node, listing every missing variable
        check_database(credentials, self._database)
        if self._environ is None:
            export_for_dbt(credentials)
        self._sessions.configure(credentials)
        names = run_params.get("pipeline_names") or [run_params.get("pipeline_name")]
        self._pipeline = ",".join(n for n in names if n) or "__default__"
        self._sessions.set_query_tag(query_tag(self._pipeline))

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        if self._active:
            self._sessions.set_query_tag(query_tag(self._pipeline, node.name))

    @hook_impl
    def after_pipeline_run(self) -> None:
        if self._active:
            self._sessions.close()

    @hook_impl
    def on_pipeline_error(self) -> None:
        if self._active:
            self._sessions.close()


def query_tag(pipeline: str, node: str | None = None) -> str:
    """The QUERY_TAG of the run's queries: `f1_kedro pipeline=<p> node=<n>`."""
    return f"f1_kedro pipeline={pipeline}" + (f" node={node}" if node else "")


def scrub_current(message: str) -> str:
    """`message` without the secrets of the run's credentials (or the environment's)."""
    credentials = SESSIONS._credentials or SnowflakeCredentials.from_sources(os.environ)
    return credentials.scrub(message)
