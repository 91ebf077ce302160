"""A real ``streamlit run`` on 127.0.0.1 and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from conftest import ROOT

ARTIFACTS = ROOT / "artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-sync",
    "--disable-component-update",
    "--disable-quic",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, address: str | None = "127.0.0.1") -> Iterator[str]:
    """``streamlit run app.py`` on a free port, listening on ``address`` (None: on every address, as the
    README's command does); yields its base URL on 127.0.0.1. Its output is ``server_log(url)``."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        *(["--server.address", address] if address else []),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = open(ARTIFACTS.joinpath(f"streamlit-{port}.log"), "w") if ARTIFACTS.mkdir(exist_ok=True) is None else None
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server, f"streamlit did not start; see {log.name}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def server_log(url: str) -> Path:
    """What the ``streamlit_server`` at ``url`` printed."""
    return ARTIFACTS / f"streamlit-{url.rsplit(':', 1)[1]}.log"


def wait_until_serving(url: str, server: subprocess.Popen, failure: str, seconds: float = 60) -> None:
    """Wait until the Streamlit server at ``url`` says it is healthy; RuntimeError(``failure``) if it stops or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(failure)
            time.sleep(0.3)


def launch_chromium(playwright, extra_args: list[str] = ()):
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS + list(extra_args), headless=True)


def wait_until_idle(page, timeout: float = 60_000) -> None:
    """Wait for Streamlit to finish the current script run (as Streamlit's own e2e suite does),
    and for the sidebar to be drawn (on a phone it is drawn collapsed, out of sight)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_selector("[data-testid='stSidebar'] [data-testid='stSelectbox']", timeout=timeout, state="attached")


def screenshot(page, name: str) -> Path:
    """The whole page in ``artifacts/``: Streamlit scrolls inside its own container, so the
    viewport is stretched to that container's height for the shot, then put back."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight ?? 0")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 12_000))})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def choose(page, selectbox, option: str, attempts: int = 4) -> None:
    """Open the Streamlit ``selectbox`` (a locator) and pick ``option``. A rerun that lands meanwhile
    (a page still settling, a sidebar still sliding in on a phone) closes the list: it is opened again."""
    for _ in range(attempts):
        selectbox.click()
        listed = page.get_by_role("option", name=option)
        try:
            listed.wait_for(state="visible", timeout=5_000)
        except Exception:  # Playwright's TimeoutError: the list closed before it showed
            page.keyboard.press("Escape")
            wait_until_idle(page)
            continue
        listed.click()
        return
    raise AssertionError(f"the option {option!r} never showed in {attempts} tries")
