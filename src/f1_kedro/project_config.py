"""conf/ as a `kedro run` resolves it, for code that reads it outside a session (tests, bench).

conf/ writes shared facts once (`${globals:...}`, conf/base/globals.yml), so reading its YAML
files as text gives unresolved strings: read them through Kedro's own `OmegaConfigLoader` with the
project's settings (globals, `${project_root:}`, the soft merge of parameters) instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def resolved_config(
    key: str, env: str = "base", project_root: Path | str | None = None
) -> dict[str, Any]:
    """`key` of conf/ ("catalog", "parameters", "globals", "mlflow", ...) resolved for `env`.

    env "base" reads conf/base alone (no git-ignored conf/local); any other env reads conf/base
    with conf/<env> merged over it, as `kedro run --env <env>` does.
    """
    from kedro.config import OmegaConfigLoader

    from f1_kedro.settings import CONFIG_LOADER_ARGS

    conf = Path(project_root or PROJECT_ROOT) / "conf"
    loader = OmegaConfigLoader(str(conf), env=env, **CONFIG_LOADER_ARGS)  # type: ignore[arg-type]
    # kedro-mlflow adds its pattern when a session starts; the same pattern here
    loader.config_patterns.setdefault(key, [f"{key}*", f"{key}*/**", f"**/{key}*"])
    return loader[key]
