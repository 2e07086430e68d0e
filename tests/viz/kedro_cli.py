"""How the viz tests call the `kedro` command of this virtualenv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

KEDRO = str(Path(sys.executable).with_name("kedro"))


def kedro_env() -> dict[str, str]:
    """The environment for a `kedro` subprocess: no colours, no telemetry, no browser."""
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", COLUMNS="200")
    env["KEDRO_DISABLE_TELEMETRY"] = "true"
    env.pop("BROWSER", None)
    return env
