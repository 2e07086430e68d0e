"""`kedro viz run` serves a page that draws every pipeline: opened in headless Chromium.

Needs Debian's `chromium` and `chromium-driver` (`make test` installs them). Set
F1_VIZ_SCREENSHOT=docs/img/kedro-viz.png to also write the README's screenshot (downsized).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import KEDRO, kedro_env
from tests.viz.webdriver import (
    CHROMEDRIVER,
    CHROMIUM,
    free_port,
    headless_chromium,
    wait_for_http,
)

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"headless Chromium is not installed ({CHROMIUM}): "
        "apt-get install -y chromium chromium-driver (make test does)",
    ),
]


# kedro-viz keeps its UI state in localStorage: light theme, no minimap, no feature tour popup.
UI_STATE = {
    "theme": "light",
    "showFeatureHints": False,
    "visible": {"miniMap": False, "sidebar": True, "code": False, "graph": True},
    "layer": {"visible": True},
    "isPrettyName": False,
}


@pytest.fixture(scope="module")
def viz_server(viz_project: Path) -> Iterator[str]:
    """`kedro viz run --no-browser` on a free 127.0.0.1 port; yields its URL."""
    port = free_port()
    log = open(viz_project / "viz_run.log", "w")
    server = subprocess.Popen(
        [KEDRO, "viz", "run", "--no-browser", "--host", "127.0.0.1", "--port", str(port)],
        cwd=viz_project,
        env=kedro_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the server and its workers stop together
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(f"{url}/api/main", timeout=300)
        except TimeoutError:
            log.flush()
            pytest.fail(
                f"kedro viz run did not serve:\n{(viz_project / 'viz_run.log').read_text()}"
            )
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def rendered(viz_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Open the page, wait for the graph to be drawn, keep a screenshot and what the DOM shows."""
    assert Path(CHROMEDRIVER).exists(), (
        f"Chromium is installed but {CHROMEDRIVER} is not: apt-get install -y chromium-driver"
    )
    with urllib.request.urlopen(f"{viz_server}/api/main") as response:
        main = json.load(response)
    tasks = [n["name"] for n in main["nodes"] if n["type"] == "task"]
    # portrait: kedro-viz draws the run top to bottom, so a tall window keeps the labels legible
    with headless_chromium(width=1500, height=1600) as browser:
        # state set from a page of the same origin that is not the app, so the app cannot
        # overwrite it before it reads it
        browser.get(f"{viz_server}/api/main")
        browser.script("localStorage.setItem('KedroViz', arguments[0])", json.dumps(UI_STATE))
        browser.get(viz_server)
        # drawn: every task node has its box and label; then the layout's transition settles
        browser.wait_until(
            f"return document.querySelectorAll('.pipeline-node--task').length >= {len(tasks)}",
            timeout=120,
        )
        browser.wait_until(_STABLE_LAYOUT, timeout=30)
        # offline, kedro-viz's version check shows an upgrade banner ("Kedro-Viz None is here!")
        browser.script(
            "const b = [...document.querySelectorAll('button')]"
            "  .find(e => e.textContent.trim() === 'Dismiss'); if (b) b.click();"
        )
        browser.wait_until(_STABLE_LAYOUT, timeout=30)
        png = browser.screenshot()
        dom = browser.script(
            "return {pipelines: document.querySelector('.pipeline-list').textContent,"
            " nodes: [...document.querySelectorAll('.pipeline-node text')].map(e => e.textContent),"
            " layers: [...document.querySelectorAll('.pipeline-layer-name')]"
            "   .map(e => e.textContent.trim()).filter(Boolean)}"
        )
    path = tmp_path_factory.mktemp("viz_screenshot") / "kedro-viz.png"
    path.write_bytes(png)
    return {"main": main, "tasks": tasks, "png": path, "dom": dom}


# The node boxes stop moving: two looks 500 ms apart see the same positions.
_STABLE_LAYOUT = """
const now = [...document.querySelectorAll('.pipeline-node')]
  .map(e => e.getAttribute('transform')).join('|');
const before = window.__f1_layout;
window.__f1_layout = now;
return before === now && now.length > 0;
"""


def test_page_draws_every_pipeline_and_node(rendered: dict[str, Any]) -> None:
    dom, main = rendered["dom"], rendered["main"]
    for pipeline in main["pipelines"]:
        assert pipeline["name"] in dom["pipelines"], pipeline["name"]
    missing = set(rendered["tasks"]) - set(dom["nodes"])
    assert not missing, f"task nodes not drawn: {sorted(missing)}"
    assert len(dom["layers"]) == len(main["layers"]), (dom["layers"], main["layers"])


def test_screenshot_is_a_real_picture(rendered: dict[str, Any]) -> None:
    from PIL import Image, ImageStat

    path: Path = rendered["png"]
    assert path.stat().st_size > 30_000, f"{path} is only {path.stat().st_size} bytes"
    image = Image.open(path).convert("RGB")
    assert image.size[0] >= 1200 and image.size[1] >= 700, image.size
    # not blank: many colours, and the luminance varies across the page
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50, f"only {len(colours)} colours: a blank page?"
    assert ImageStat.Stat(image.convert("L")).stddev[0] > 10

    target = os.environ.get("F1_VIZ_SCREENSHOT")
    if target:  # the README's picture: downsized to stay well under 300 KB
        image.thumbnail((1200, 1200))
        buffer = io.BytesIO()
        image.quantize(colors=128).save(buffer, format="PNG", optimize=True)
        Path(target).write_bytes(buffer.getvalue())


# The deep link docs/tools.md gives: the features pipeline, the fact table selected.
FEATURES_LINK = "/?pid=features&sn=FORMULA1__MARTS__FCT_RESULTS"


@pytest.fixture(scope="module")
def features_view(viz_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The features pipeline opened by its deep link: dbt's layers, a table's panel and preview."""
    with urllib.request.urlopen(f"{viz_server}/api/pipelines/features") as response:
        view = json.load(response)
    tasks = [n["name"] for n in view["nodes"] if n["type"] == "task"]
    # landscape, no sidebar: each dbt layer is one wide row of tables
    state = {**UI_STATE, "visible": {**UI_STATE["visible"], "sidebar": False}}
    with headless_chromium(width=2400, height=1300) as browser:
        browser.get(f"{viz_server}/api/main")
        browser.script("localStorage.setItem('KedroViz', arguments[0])", json.dumps(state))
        for link in ("/?pid=features", FEATURES_LINK):
            browser.get(viz_server + link)
            browser.wait_until(
                f"return document.querySelectorAll('.pipeline-node--task').length == {len(tasks)}",
                timeout=120,
            )
            browser.wait_until(_STABLE_LAYOUT, timeout=30)
            browser.script(
                "const b = [...document.querySelectorAll('button')]"
                "  .find(e => e.textContent.trim() === 'Dismiss'); if (b) b.click();"
            )
            browser.wait_until(_STABLE_LAYOUT, timeout=30)
            if link != FEATURES_LINK:  # the whole stage, for the README
                overview = browser.screenshot()
        # the side panel of the selected table, with its preview rows
        browser.wait_until(
            "return !!document.querySelector('.pipeline-metadata') &&"
            " document.querySelector('.pipeline-metadata').textContent"
            "   .includes('FORMULA1.MARTS.FCT_RESULTS')",
            timeout=60,
        )
        browser.wait_until(_STABLE_LAYOUT, timeout=30)
        png = browser.screenshot()
        dom = browser.script(
            "return {panel: document.querySelector('.pipeline-metadata').textContent,"
            " nodes: [...document.querySelectorAll('.pipeline-node text')].map(e => e.textContent),"
            " layers: [...document.querySelectorAll('.pipeline-layer-name')]"
            "   .map(e => e.textContent.trim()).filter(Boolean)}"
        )
    folder = tmp_path_factory.mktemp("viz_features")
    (folder / "selected.png").write_bytes(png)
    (folder / "overview.png").write_bytes(overview)
    return {"tasks": tasks, "png": folder / "overview.png", "dom": dom}


def test_features_link_shows_dbt_layers_and_a_table(features_view: dict[str, Any]) -> None:
    dom = features_view["dom"]
    assert {"raw", "staging", "intermediate", "marts", "model_input"} <= set(dom["layers"]), dom
    drawn = " ".join(dom["nodes"])
    for name in ("dbt_staging_node", "dbt_marts_node", "dbt_ml_node"):
        assert name in drawn, name
    assert "FORMULA1.MARTS.FCT_RESULTS" in dom["panel"]  # the table's location, not N/A
    target = os.environ.get("F1_VIZ_FEATURES_SCREENSHOT")
    if target:  # docs/img/kedro-viz-features.png: the dbt lineage, wide enough to read
        from PIL import Image

        image = Image.open(features_view["png"]).convert("RGB")
        image.thumbnail((2000, 2000))
        buffer = io.BytesIO()
        image.quantize(colors=128).save(buffer, format="PNG", optimize=True)
        Path(target).write_bytes(buffer.getvalue())
