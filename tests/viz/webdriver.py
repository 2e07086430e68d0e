"""A minimal W3C WebDriver client (urllib only) for headless Chromium through chromedriver.

Debian's `chromium` and `chromium-driver` packages give both binaries; no Selenium needed.
"""

from __future__ import annotations

import base64
import json
import random
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]


def free_port(low: int = 20000, high: int = 49000) -> int:
    """A free 127.0.0.1 port below the ephemeral range (kedro-viz refuses ports above 49151)."""
    for port in random.sample(range(low, high), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def wait_for_http(url: str, timeout: float) -> None:
    """Poll `url` until it answers 200, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.5)


class Browser:
    """One WebDriver session: navigate, run a script, take a screenshot."""

    def __init__(self, endpoint: str, session_id: str):
        self._endpoint = endpoint
        self._session = session_id

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self._endpoint}/session/{self._session}{path}"
        return _request(method, url, body)

    def get(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def script(self, source: str, *args: Any) -> Any:
        return self._call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def wait_until(self, source: str, timeout: float, poll: float = 0.5) -> Any:
        """Run `source` until it returns something truthy; TimeoutError with its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.script(source)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for: {source} (last: {value!r})")
            time.sleep(poll)

    def screenshot(self) -> bytes:
        return base64.b64decode(self._call("GET", "/screenshot"))


def _request(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"{}").get("value")
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"WebDriver {method} {url}: {err.read().decode()[:2000]}") from err


@contextmanager
def headless_chromium(width: int = 1600, height: int = 1000) -> Iterator[Browser]:
    """chromedriver on a free 127.0.0.1 port and one headless Chromium with a fresh profile."""
    port = free_port()
    driver = subprocess.Popen(
        [CHROMEDRIVER, f"--port={port}", "--allowed-ips=127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{endpoint}/status", timeout=30)
        with tempfile.TemporaryDirectory(prefix="f1_chromium_") as profile:
            args = [*CHROMIUM_ARGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
            capabilities = {
                "capabilities": {
                    "alwaysMatch": {
                        "browserName": "chrome",
                        "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
                    }
                }
            }
            session = _request("POST", f"{endpoint}/session", capabilities)["sessionId"]
            try:
                yield Browser(endpoint, session)
            finally:
                _request("DELETE", f"{endpoint}/session/{session}")
    finally:
        driver.terminate()
        driver.wait(timeout=10)
