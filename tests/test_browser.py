"""The form in a real browser: Notebook 7 + ipywidgets under Playwright, Debian's Chromium.

Fails once with a wrong secret, succeeds with the right one, runs the Authorization Code flow by
opening the link and logging in on the stand-in's page, then saves the notebook with widget
state on and finds no secret, password, access token, JWT, code or state in the file.
Skips without Chromium, except when ``CI`` is set: there it fails.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests

from .conftest import ALICE, ORG, ORG_SECRET, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[1] / "docs"
BASE_URL = "/user/visitor/"
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

if not os.path.exists(CHROMIUM) or importlib.util.find_spec("jupyterlab") is None:
    if os.environ.get("CI"):
        pytest.fail("Chromium and JupyterLab are required when CI is set", pytrace=False)
    pytest.skip("needs Debian's chromium and jupyterlab", allow_module_level=True)
playwright = (
    importlib.import_module("playwright.sync_api")  # under CI a missing Playwright must fail
    if os.environ.get("CI")
    else pytest.importorskip("playwright.sync_api")
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, code_standins):
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
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
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("%load_ext iyo_magic"), nbformat.v4.new_code_cell("%iyo_token --form")]
    for ui in ("lab", "notebook"):
        nbformat.write(notebook, root / f"form-{ui}.ipynb")
    port, token = free_port(), "browser-test-token"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    # No redirect URI is configured: the code flow returns through the Jupyter server (the
    # extension's callback page), under a base URL as JupyterHub and Binder give one.
    env.update(code_standins.environment(), IYO_CLIENT_ID=ORG)
    env.update(
        {
            name: str(home / name.lower())
            for name in (
                "JUPYTER_CONFIG_DIR",
                "JUPYTER_RUNTIME_DIR",
                "JUPYTERLAB_WORKSPACES_DIR",
                "IPYTHONDIR",
                "XDG_CONFIG_HOME",
                "XDG_CACHE_HOME",
                "XDG_DATA_HOME",
            )
        }
    )
    env.update(HOME=str(home), JUPYTERLAB_SETTINGS_DIR=str(settings), TMPDIR=str(home))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}",
            f"--ServerApp.base_url={BASE_URL}",
            "--allow-root",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}{BASE_URL.rstrip('/')}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/api/status?token={token}", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start")
    yield {
        "lab": f"{base}/lab/tree/form-lab.ipynb?reset&token={token}",
        "notebook": f"{base}/notebooks/form-notebook.ipynb?token={token}",
        "root": root,
        "origin": f"http://127.0.0.1:{port}",
    }
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


# JupyterLab 4 runs the same form in tests/test_binder_browser.py (both flows, under Binder's
# conditions); here Notebook 7, with a refused secret first and the screenshots of docs/.
@pytest.mark.parametrize("ui", ["notebook"], ids=["notebook-7"])
def test_form_in_a_real_browser(lab, code_standins, tmp_path, ui):
    shots = DOCS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    code_standins.iyo.state.consents.clear()  # alice consents anew in each front end
    notebook_file = lab["root"] / f"form-{ui}.ipynb"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(lab[ui])
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.wait_for()
            page.wait_for_function(  # a kernel, idle where the page shows its state
                "() => [...document.querySelectorAll('.jp-KernelName')].some(e => !/No Kernel/.test(e.textContent))"
                " && [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]"
                ".every(e => e.getAttribute('data-status') === 'idle')"
            )
            form = panel.locator(".iyo-form")
            for attempt in range(3):  # a Run All sent while the kernel still starts can be lost
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator('[data-command="runmenu:run-all"]').click()
                try:
                    form.wait_for(timeout=6_000)
                    break
                except playwright.TimeoutError:
                    page.screenshot(path=str(tmp_path / f"run-all-{attempt}.png"))
            form.wait_for()

            secret = form.locator(".widget-text input[type=password]").first
            button = form.get_by_role("button", name="Get token and JWT")
            secret.fill("not-the-secret")
            form.get_by_label("Audience", exact=True).fill(ORG)
            button.click()
            message = form.locator(".iyo-message")
            message.get_by_text("client id or secret rejected").wait_for()
            assert secret.input_value() == ""

            secret.fill(ORG_SECRET)
            button.click()
            form.locator(".iyo-status").get_by_text("verified").wait_for()
            assert ORG in form.locator(".iyo-status").inner_text()
            form.screenshot(path=str(shots / "form.png"))
            form.locator(".iyo-status").screenshot(path=str(shots / "card.png"))

            form.locator(".iyo-flow select").select_option(label="Authorization code (log in in the browser)")
            form.get_by_label("JWT scope", exact=True).fill(f"user:memberof:{ORG}")
            form.get_by_label("Audience", exact=True).fill("")
            secret.fill(ORG_SECRET)
            button.click()
            link = form.locator("a.iyo-login-link")
            link.wait_for()
            login_page = context.new_page()
            login_page.goto(link.get_attribute("href"))
            login_page.get_by_label("Username").fill("alice")
            login_page.get_by_label("Password").fill(ALICE["password"])
            login_page.get_by_role("button", name="Log in").click()
            login_page.get_by_role("button", name="Authorize").click()
            login_page.get_by_text("Signed in").wait_for()
            assert login_page.url.startswith(f"{lab['origin']}{BASE_URL}iyo/callback?")  # back through Jupyter
            assert "code=" not in login_page.content()
            login_page.close()
            form.locator(".iyo-status").get_by_text("alice").wait_for()

            panel.click()
            page.keyboard.press("Control+s")
            deadline = time.time() + 30
            while time.time() < deadline and "widgets" not in nbformat.read(notebook_file, 4).metadata:
                time.sleep(0.3)
        finally:
            browser.close()

    saved = notebook_file.read_text()
    assert "application/vnd.jupyter.widget-state+json" in saved  # widget state was saved
    issued = [t.token for t in code_standins.iyo.state.access_tokens.values()]
    grants = [(code, g.state) for code, g in code_standins.iyo.state.codes.items()]
    forbidden = [ORG_SECRET, "not-the-secret", ALICE["password"], *issued, *[v for pair in grants for v in pair]]
    found = [value[:6] + "…" for value in forbidden if value and value in saved]
    assert not found and not JWT_PATTERN.search(saved), f"secrets in the saved notebook: {found}"
