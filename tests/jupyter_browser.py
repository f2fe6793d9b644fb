"""What the real-browser tests share: Debian's Chromium under Playwright, a quiet Jupyter home,
starting JupyterLab, running a notebook and saving it (see ``../shared/browser-testing.md``)."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
import requests

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
JWT_PATTERN = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.")
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: JupyterLab on loopback, with no browser of its own, no news and no update checks.
LAB_OPTIONS = [
    "--no-browser",
    "--allow-root",
    "--ServerApp.ip=127.0.0.1",
    "--ServerApp.port_retries=0",
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
]


def require(available: bool, what: str):
    """A module's autouse fixture: its tests skip when ``what`` is missing, except under CI,
    where they fail. Checked as a test starts, so a run that deselects them (``-m "not
    browser"``) needs none of it, CI or not."""

    @pytest.fixture(autouse=True, scope="module")
    def required_tools() -> None:
        if not available:
            if os.environ.get("CI"):
                pytest.fail(f"{what} required when CI is set", pytrace=False)
            pytest.skip(f"needs {what}")

    return required_tools


def playwright_api():
    """Playwright's sync API; under CI a missing Playwright fails instead of skipping."""
    if os.environ.get("CI"):
        return importlib.import_module("playwright.sync_api")
    return pytest.importorskip("playwright.sync_api")


def quiet_jupyter_home(home: Path) -> dict[str, str]:
    """Environment variables that keep Jupyter, IPython and Chromium inside ``home``, with widget
    state saved and no news toast."""
    settings = home / "settings"
    for name, value in {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
    }.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(value))
    folders = ["JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"]
    folders += ["XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"]
    return {
        **{name: str(home / name.lower()) for name in folders},
        "HOME": str(home),
        "TMPDIR": str(home),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
    }


def wait_until_answers(url: str, seconds: float = 60) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=2).ok:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


#: A kernel, idle where the page shows its state.
KERNEL_IDLE = (
    "() => [...document.querySelectorAll('.jp-KernelName')].some(e => !/No Kernel/.test(e.textContent))"
    " && [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]"
    ".every(e => e.getAttribute('data-status') === 'idle')"
)


def take_the_offered_kernel(page) -> None:
    """On a loaded machine JupyterLab may ask which kernel to start (its list of kernels came
    late); its dialog blocks every click. Take the one it offers, the notebook's, as a user would."""
    from playwright.sync_api import TimeoutError as NotYet

    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if dialog.count():
        with contextlib.suppress(NotYet):  # it closed meanwhile
            dialog.get_by_role("button", name="Select").click(timeout=5_000)


def run_all(page, until, timeout: float = 6_000) -> None:
    """Run every cell of the open notebook, once its kernel is idle, until ``until`` shows; a
    Run All sent while a kernel still starts can be lost, so it is sent again."""
    from playwright.sync_api import TimeoutError as NotYet

    for waited in range(30):  # a minute at most; a kernel-choice dialog may come at any moment
        take_the_offered_kernel(page)
        try:
            page.wait_for_function(KERNEL_IDLE, timeout=2_000)
            break
        except NotYet:
            if waited == 29:
                raise
    for _ in range(3):
        take_the_offered_kernel(page)
        try:
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=timeout)
            page.locator('[data-command="runmenu:run-all"]').click(timeout=timeout)
            until.wait_for(timeout=timeout)
            return
        except NotYet:
            continue
    take_the_offered_kernel(page)
    until.wait_for()


def save_with_widget_state(page, panel, notebook_file: Path) -> str:
    """Save the notebook (Ctrl+S) and return the file once it holds the widget state."""
    panel.click()
    page.keyboard.press("Control+s")
    deadline = time.time() + 30
    while time.time() < deadline and "widgets" not in nbformat.read(notebook_file, 4).metadata:
        time.sleep(0.3)
    return notebook_file.read_text()
