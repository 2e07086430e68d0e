"""`make viz` opens kedro-viz on the features stage (dbt's layers), not on the whole run."""

from __future__ import annotations

import subprocess

from tests.conftest import PROJECT_ROOT


def make_dry_run(target: str) -> str:
    """What `make <target>` would run (without installing first)."""
    return subprocess.run(
        ["make", "-n", "-o", "install", target],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_viz_opens_the_features_deep_link() -> None:
    command = make_dry_run("viz")
    # kedro-viz's own browser tab would open on __default__: it is off, the deep link opens
    assert "kedro viz run --autoreload --no-browser" in command
    assert '-m webbrowser -t "http://127.0.0.1:4141/?pid=features"' in command
    assert "/dev/tcp/127.0.0.1/4141" in command  # the same port as the server's
    assert "--port 4141" in command


def test_make_mlflow_is_kedro_mlflow_ui() -> None:
    command = make_dry_run("mlflow")
    assert "kedro mlflow ui" in command
