"""`kedro run` of this project: Kedro's own command with two additions.

- `--params` takes lists: commas inside [...] do not split items, so
  `--params "train.seasons.test=[2023,2024],train.n_jobs=1"` works (Kedro splits on every comma).
- A failure ends with the project's message; the traceback goes to `logs/last_error.log`, or to
  the terminal with `--verbose` / `-v`.

Kedro loads `cli` from `<package>.cli` and lets it override its built-in `run` (Kedro docs:
"customise or override project-specific Kedro commands").
"""

from __future__ import annotations

import copy
import sys
import traceback
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.cli.utils import KedroCliError, split_node_names
from omegaconf import OmegaConf

from f1_kedro import quiet

quiet.install()

ERROR_LOG = Path("logs") / "last_error.log"


def split_params(ctx: click.Context, param: Any, value: Any) -> Any:
    """Kedro's --params parser, except that commas inside [...] do not split (lists).

    The same steps as kedro.framework.cli.utils._split_params (key=value items -> an OmegaConf
    dot list -> a dict), with Kedro's bracket-aware split_node_names as the item splitter.
    """
    if isinstance(value, dict):  # from `kedro run --config run.yml`
        return value
    dot_list = []
    for item in split_node_names(ctx, param, value or ""):
        key, equals, val = item.partition("=")
        if not equals or not key.strip():
            ctx.fail(f"Invalid format of `--params`: item `{item}` must be key=value.")
        dot_list.append(f"{key.strip()}={val}")
    return OmegaConf.to_container(OmegaConf.from_dotlist(dot_list))


def _run(verbose: bool, **kwargs: Any) -> Any:
    try:
        return kedro_run.callback(**kwargs)  # type: ignore[misc]
    except (KedroCliError, click.ClickException):
        raise
    except Exception as error:
        if verbose:
            raise
        _fail(error)


def _fail(error: BaseException) -> None:
    """Print the message alone; keep the traceback in logs/last_error.log."""
    where = ""
    try:
        ERROR_LOG.parent.mkdir(exist_ok=True)
        ERROR_LOG.write_text("".join(traceback.format_exception(error)))
        where = f"the traceback is in {ERROR_LOG}; "
    except OSError:  # a full disk or read-only folder must not hide the real error
        pass
    click.secho(f"Error: {error}", err=True, fg="red")
    click.echo(f"({where}run again with --verbose to print it)", err=True)
    sys.exit(1)


def _project_run() -> click.Command:
    params = []
    for option in kedro_run.params:
        option = copy.copy(option)  # Kedro's own command stays untouched
        if option.name == "params":
            option.callback = split_params
            option.help = (option.help or "") + " Lists: key=[a,b] (commas inside [] are kept)."
        params.append(option)
    params.append(
        click.Option(
            ["--verbose", "-v"], is_flag=True, help="Print the full traceback of a failure."
        )
    )
    return click.Command(
        "run", callback=_run, params=params, help=kedro_run.help, short_help="Run the pipeline."
    )


@click.group(name="f1_kedro")
def cli() -> None:
    """Project-specific commands of f1_kedro."""


cli.add_command(_project_run())
