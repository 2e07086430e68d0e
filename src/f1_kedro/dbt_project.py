"""The dbt project: `DbtProject` builds a selection, `DbtProjectDataset` hands it to nodes.

Engine-free: the engine is the dbt target, which the catalog of each Kedro environment names.
dbt runs in process through its programmatic `dbtRunner`; dbt-duckdb then opens the warehouse
file itself, so no Kedro dataset may hold a connection to it meanwhile (the DuckDB datasets open
and close one per call). What an engine must release after each invocation it passes in as
`release` (`f1_kedro.engines.duckdb.DuckDBDbtProjectDataset` does); this module knows no engine.

dbt parses the project once per set of vars (and build env) in a Kedro run: the first invocation
parses (`dbt parse`, partial when dbt/ is unchanged) and the later ones reuse that manifest
(`dbtRunner(manifest=...)`). dbt re-parses in full when `--vars` change, so each set of var names
and build env names (the features builds', the score build's) keeps its own partial-parse state in
its own target path; a changed environment variable re-parses only the files that read it, which
is why the score build passes its request as environment variables. Checked in the installed
dbt-core 1.11.16: `dbt/cli/requires.py` `setup_manifest` parses only when no manifest was handed
in; `dbt/parser/manifest.py` `is_partial_parsable` compares a hash of the CLI vars, profile and
target with the saved state's and parses in full when they differ; `dbt/parser/partial.py`
`build_env_vars_to_files` schedules the files whose environment variables changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro.io import DatasetError

from f1_kedro.datasets.resource import ResourceDataset

logger = logging.getLogger(__name__)

# Statuses of dbt's run results that mean a model, seed, snapshot or test did not pass.
_FAILED = {"error", "fail", "runtime error"}


class DbtBuildError(RuntimeError):
    """A dbt invocation failed; `failures` holds dbt's own node names and messages."""

    def __init__(self, message: str, failures: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.failures = failures or []


@dataclass(frozen=True)
class DbtProject:
    """A dbt project, its profiles and target, and the vars every invocation gets."""

    project_dir: str = "dbt"
    profiles_dir: str = "dbt"
    target: str = "duckdb"
    vars: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    # What the engine releases after each dbt invocation (dbt-duckdb's in-process database)
    release: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    # dbt's parsed manifest per (vars, build env), reused by every later invocation with the same
    _manifests: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def build(
        self,
        select: Sequence[str],
        vars: Mapping[str, Any] | None = None,
        exclude: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run `dbt build` on `select` (models and their tests) in one invocation.

        `env`: environment variables for this build only, on top of the project's (`env_var()`
        in the dbt project reads them). A value that changes from run to run belongs here rather
        than in `vars`: dbt re-parses only the files that read a changed environment variable, but
        the whole project when `--vars` change.

        Returns a JSON-ready report (target, selection, counts by status, each node's status and
        time). A failed model or test raises `DbtBuildError` with dbt's messages.
        """
        merged_vars = {**self.vars, **(vars or {})}
        env = dict(env or {})
        args = self._args("build", select, merged_vars, exclude, env)
        logger.info("dbt %s", " ".join(args))
        started = time.perf_counter()
        manifest = self._manifest(merged_vars, env)
        with _environment({**self.env, **env}):
            result = self._invoke(args, manifest)
        seconds = round(time.perf_counter() - started, 2)
        nodes = _node_results(result.result)
        failures = [n for n in nodes if n["status"] in _FAILED]
        if result.exception is not None or failures or not result.success:
            raise DbtBuildError(_failure_message(self.target, result.exception, failures), failures)
        counts = Counter(n["status"] for n in nodes)
        logger.info("dbt build passed in %.1f s: %s", seconds, dict(counts))
        return {
            "command": "build",
            "target": self.target,
            "select": list(select),
            "exclude": list(exclude or []),
            "vars": merged_vars,
            "env": env,
            "seconds": seconds,
            "counts": dict(sorted(counts.items())),
            "nodes": nodes,
        }

    def _manifest(self, vars: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Any:
        """The project parsed with `vars` and the build's `env` (both reach what dbt renders at
        parse time), once per DbtProject, vars and env; raises if dbt cannot parse."""
        env = dict(env or {})
        key = json.dumps([self.target, dict(vars), env], sort_keys=True, default=str)
        if key not in self._manifests:
            # the profile and env_var() values as the build sees them (both in the parse state)
            with _environment({**self.env, **env}):
                result = self._invoke(self._args("parse", (), vars, None, env))
            if result.exception is not None or not result.success:
                raise DbtBuildError(_failure_message(self.target, result.exception, [], "parse"))
            self._manifests[key] = result.result
        return self._manifests[key]

    def _invoke(self, args: list[str], manifest: Any = None) -> Any:
        try:
            return _invoke(args, manifest)
        finally:
            if self.release is not None:
                self.release()

    def _args(
        self,
        command: str,
        select: Sequence[str],
        vars: Mapping[str, Any],
        exclude: Sequence[str] | None,
        env: Mapping[str, str],
    ) -> list[str]:
        args = [
            command,
            "--no-use-colors",  # dbt's output goes into Kedro's log, not a terminal
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.profiles_dir),
            "--target",
            self.target,
            "--target-path",
            _state_path(self.target, vars, env),
        ]
        if command == "build":
            # manifest.json and run_results.json again after every build (~0.15 s each, ~1 s of a
            # run): the parse already wrote the manifest, and the report this returns holds each
            # node's status, time and message (data/08_reporting/dbt_*_report.json)
            args.append("--no-write-json")
        if select:
            args += ["--select", *select]
        if exclude:
            args += ["--exclude", *exclude]
        if vars:
            args += ["--vars", json.dumps(dict(vars))]
        return args


class DbtProjectDataset(ResourceDataset[DbtProject]):
    """The dbt project as a catalog entry, so that each Kedro environment picks its dbt target."""

    kind = "dbt project"

    def __init__(
        self,
        project_dir: str = "dbt",
        profiles_dir: str = "dbt",
        target: str = "duckdb",
        vars: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        project = DbtProject(
            project_dir, profiles_dir, target, dict(vars or {}), dict(env or {}), self.release
        )
        super().__init__(project, metadata)

    # What this engine releases after each dbt invocation; None: nothing beyond dbt's adapters.
    release: Callable[[], None] | None = None

    def load(self) -> DbtProject:
        project = self._resource
        if not (Path(project.project_dir) / "dbt_project.yml").exists():
            raise DatasetError(f"no dbt_project.yml in {Path(project.project_dir).resolve()}")
        return project

    def _describe(self) -> dict[str, Any]:
        return {"project_dir": self._resource.project_dir, "target": self._resource.target}


def _state_path(target: str, vars: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """dbt's target path for this target, these var names and these build env names, relative
    to the dbt project.

    dbt keeps one partial-parse state per target path. It parses in full when the `--vars` differ
    from the state's, and re-parses the files that read an environment variable whose value
    changed. The features builds and the score build (which passes its request as environment
    variables) each keep their own state: a second `kedro run` re-parses nothing, and a new score
    request re-parses only the files that read it.
    """
    names = hashlib.sha1(json.dumps([target, sorted(vars), sorted(env)]).encode()).hexdigest()[:8]
    return f"target/kedro-{target}-{names}"


def _invoke(args: list[str], manifest: Any = None) -> Any:
    # Imported here: dbt is heavy to import and only the nodes that run it need it.
    from dbt.cli.main import dbtRunner

    try:
        return dbtRunner(manifest=manifest).invoke(args)
    finally:
        _release_adapters()


def _release_adapters() -> None:
    """Close the adapters dbt keeps for the life of the process (engine specifics: `release`)."""
    from dbt.adapters.factory import reset_adapters

    reset_adapters()


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set `env` (e.g. F1_WAREHOUSE_DIR for the profile) for one invocation, then restore."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update({key: str(value) for key, value in env.items()})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _node_results(execution: Any) -> list[dict[str, Any]]:
    """Each node's outcome from dbt's RunExecutionResult (None when dbt stopped before running)."""
    results = getattr(execution, "results", None) or []
    return [
        {
            "node": r.node.unique_id,
            "status": str(getattr(r.status, "value", r.status)),
            "seconds": round(float(r.execution_time or 0.0), 3),
            "message": r.message,
            "failures": r.failures,
        }
        for r in results
    ]


def _failure_message(
    target: str,
    exception: BaseException | None,
    failures: list[dict[str, Any]],
    command: str = "build",
) -> str:
    lines = [f"dbt {command} failed on target {target!r}"]
    if exception is not None:
        lines.append(f"{type(exception).__name__}: {exception}")
    lines += [f"- {f['node']} [{f['status']}]: {f['message']}" for f in failures]
    if exception is None and not failures:
        lines.append("dbt reported failure without node results; see dbt/logs/dbt.log")
    return "\n".join(lines)
