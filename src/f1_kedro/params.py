"""Parameter schemas: every parameter group is checked before the first node runs.

Convention: the group `<name>` (the top-level key of `parameters_<name>.yml`) is described by
`f1_kedro.pipelines.<name>.params:Params`, a pydantic v2 model built on `Schema` (unknown keys are
errors). Groups that are not a pipeline's are listed in `OTHER_SCHEMAS`. A group whose pipeline has
no `params` module yet is skipped with a debug line; a group that belongs to nothing is an error
(a typo such as `--params trian.seasons...`).

`ParamsValidationHook` (settings.HOOKS) runs the check in `before_pipeline_run`, so a bad value
stops the run before any dataset is written; `ParameterError` carries one line per problem,
e.g. `train.search.grid.max_dept: unknown key`.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Mapping
from typing import Any

from kedro.framework.hooks import hook_impl
from pydantic import BaseModel, ConfigDict, ValidationError

logger = logging.getLogger(__name__)

PIPELINES_PACKAGE = "f1_kedro.pipelines"
# Groups that configure an engine rather than a pipeline: group -> "module:Class".
OTHER_SCHEMAS = {"snowflake": "f1_kedro.params_snowflake:Params"}


class Schema(BaseModel):
    """Base of every parameter schema: unknown keys are errors, values are not coerced silently
    beyond pydantic's lax mode (a YAML `5` for a float is fine, `"abc"` for an int is not)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterError(ValueError):
    """One or more parameters are wrong; `problems` holds one `group.key: what is wrong` each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"{len(problems)} parameter problem(s), nothing was run:\n{lines}\n"
            "Fix conf/<env>/parameters_<group>.yml or the --params you passed "
            "(docs/tools.md shows how to pass lists)."
        )


def schema_for(group: str) -> type[BaseModel] | None:
    """The `Params` model of a group, None if its pipeline has no schema yet.

    Raises KeyError for a group that is neither a pipeline nor in OTHER_SCHEMAS.
    """
    target = OTHER_SCHEMAS.get(group)
    if target is None:
        package = f"{PIPELINES_PACKAGE}.{group}"
        if not group.isidentifier() or importlib.util.find_spec(package) is None:
            raise KeyError(group)
        if importlib.util.find_spec(f"{package}.params") is None:
            return None
        target = f"{package}.params:Params"
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def problems_of(params: Mapping[str, Any]) -> list[str]:
    """Every problem in every parameter group, one readable line each (empty: all good)."""
    problems: list[str] = []
    for group, value in params.items():
        try:
            schema = schema_for(group)
        except KeyError:
            problems.append(f"{group}: unknown parameter group (no pipeline of that name)")
            continue
        if schema is None:
            logger.debug("parameters %s: no schema yet, not checked", group)
            continue
        try:
            schema.model_validate(value)
        except ValidationError as error:
            problems.extend(_lines(group, error))
    return problems


def validate_params(params: Mapping[str, Any]) -> None:
    """Raise ParameterError listing every problem, or return quietly."""
    problems = problems_of(params)
    if problems:
        raise ParameterError(problems)


def _lines(group: str, error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_url=False):
        where = ".".join([group, *(str(part) for part in item["loc"])])
        lines.append(f"{where}: {_message(item)}")
    return lines


def _message(item: Mapping[str, Any]) -> str:
    """pydantic's message, reworded where it names pydantic internals instead of the value."""
    kind, value = item["type"], item.get("input")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing (required)"
    if kind in {"list_type", "tuple_type"}:
        return f"expected a list, got {value!r}"
    message = str(item["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "literal_error":
        return f"{message}, got {value!r}"
    return message


class ParamsValidationHook:
    """Checks every parameter group against its schema before the first node runs."""

    @hook_impl
    def before_pipeline_run(self, catalog: Any) -> None:
        validate_params(_parameters(catalog))


def _parameters(catalog: Any) -> dict[str, Any]:
    """The run's parameters (files merged with --params), as the catalog holds them."""
    if "parameters" in catalog:
        return dict(catalog.load("parameters") or {})
    return {}
