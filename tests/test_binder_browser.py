"""Binder, as a visitor meets it: JupyterLab started by ``binder/start`` under ``/user/visitor/``
with Binder's environment; the browser may reach that origin and path and nothing else; the
visitor runs both flows of ``form.ipynb`` using only what the pages show them."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

import nbformat
import pytest
import requests

from iyo_magic.server.accounts import DEMO

from .conftest import free_port
from .test_browser import CHROMIUM, JWT_PATTERN, LAUNCH_ARGS

if not os.path.exists(CHROMIUM) or shutil.which("bash") is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is required when CI is set", pytrace=False)
    pytest.skip("needs Debian's chromium", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/user/visitor/"
TOKEN = "binder-visitor-token"
SECRETS = [u["password"] for u in DEMO["users"]] + [
    k["secret"] for owner in DEMO["organizations"] + DEMO["users"] for k in owner["api_keys"]
]


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    home = tmp_path_factory.mktemp("binder")
    root = home / "notebooks"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "form.ipynb", root / "form.ipynb")
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
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))}
    env.update({name: str(home / name.lower()) for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")})
    env.update(
        HOME=str(home),
        TMPDIR=str(home),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IYO_MAGIC_STATE=str(home / "state"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        # What Binder's single-user servers have.
        JUPYTERHUB_SERVICE_PREFIX=PREFIX,
        BINDER_LAUNCH_HOST="https://mybinder.org/",
        BINDER_REQUEST="v2/gh/iyo-magic/iyo_magic/HEAD",
    )
    command = [
        "bash", str(ROOT / "binder" / "start"),
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={PREFIX}", f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(f"{origin}{PREFIX}api/status?token={TOKEN}", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("JupyterLab did not start under binder/start")
        yield {"origin": origin, "root": root}
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # JupyterLab and the stand-ins binder/start started
        server.wait(timeout=30)


def test_a_binder_visitor_runs_both_flows_of_the_form(binder):
    origin = binder["origin"]
    blocked: list[str] = []

    def only_binder(route):
        if route.request.url.startswith(f"{origin}{PREFIX}"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1000})
            context.route("**/*", only_binder)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{origin}{PREFIX}lab/tree/form.ipynb?reset&token={TOKEN}")
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.wait_for()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-KernelName')].some(e => !/No Kernel/.test(e.textContent))"
                " && [...document.querySelectorAll('.jp-Notebook-ExecutionIndicator')]"
                ".some(e => e.getAttribute('data-status') === 'idle')"
            )
            forms = panel.locator(".iyo-form")
            for _ in range(3):
                page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
                page.locator('[data-command="runmenu:run-all"]').click()
                try:
                    forms.nth(1).wait_for(timeout=8_000)
                    break
                except playwright.TimeoutError:
                    continue

            # Client credentials: the secret is in the kernel's environment, and the form says so.
            first = forms.nth(0)
            assert "taken from $IYO_CLIENT_SECRET" in first.locator(".iyo-secret-note").inner_text()
            first.get_by_role("button", name="Get token and JWT").click()
            first.locator(".iyo-status").get_by_text("verified").wait_for()

            # The Authorization Code flow: the login page comes through this server, shows the demo
            # users, and the login comes back to this server.
            second = forms.nth(1)
            second.get_by_role("button", name="Get token and JWT").click()
            link = second.locator("a.iyo-login-link")
            link.wait_for()
            login = context.new_page()
            login.goto(urljoin(page.url, link.get_attribute("href")))
            password = re.search(r"<code>alice</code> / <code>([^<]+)</code>", login.content()).group(1)
            login.get_by_label("Username").fill("alice")
            login.get_by_label("Password").fill(password)
            login.get_by_role("button", name="Log in").click()
            login.get_by_role("button", name="Authorize").click()
            login.get_by_text("Signed in").wait_for()
            assert login.url.startswith(f"{origin}{PREFIX}iyo/callback?")
            assert "code=" not in login.content() and "state=" not in login.content()
            second.locator(".iyo-status").get_by_text("alice").wait_for()

            panel.click()
            page.keyboard.press("Control+s")
            notebook_file = binder["root"] / "form.ipynb"
            deadline = time.time() + 30
            while time.time() < deadline and "widgets" not in nbformat.read(notebook_file, 4).metadata:
                time.sleep(0.3)
        finally:
            browser.close()
    assert not [url for url in blocked if "/iyo/" in url or "/v1/oauth" in url]  # the flows never left Binder
    saved = (binder["root"] / "form.ipynb").read_text()
    assert "application/vnd.jupyter.widget-state+json" in saved
    found = [value[:6] + "…" for value in SECRETS if value in saved]
    assert not found and not JWT_PATTERN.search(saved) and "code=" not in saved, found
