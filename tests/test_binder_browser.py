"""Binder, as a visitor meets it: JupyterLab started by ``binder/start`` under ``/user/visitor/``
with Binder's environment; the browser may reach that origin and path and nothing else; the
visitor runs both flows of ``form.ipynb`` using only what the pages show them."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import pytest

from iyo_magic.server.accounts import DEMO

from .conftest import free_port
from .jupyter_browser import (
    CHROMIUM,
    JWT_PATTERN,
    LAB_OPTIONS,
    LAUNCH_ARGS,
    playwright_api,
    quiet_jupyter_home,
    require,
    run_all,
    save_with_widget_state,
    wait_until_answers,
)

required_tools = require(os.path.exists(CHROMIUM) and shutil.which("bash") is not None, "Chromium and bash")
playwright = playwright_api()

pytestmark = pytest.mark.browser

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
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))}
    env.update(
        quiet_jupyter_home(home),
        IYO_MAGIC_STATE=str(home / "state"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        # What Binder's single-user servers have.
        JUPYTERHUB_SERVICE_PREFIX=PREFIX,
        BINDER_LAUNCH_HOST="https://mybinder.org/",
        BINDER_REQUEST="v2/gh/iyo-magic/iyo_magic/HEAD",
    )
    options = [f"--ServerApp.port={port}", f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}"]
    command = ["bash", str(ROOT / "binder" / "start"), sys.executable, "-m", "jupyterlab", *LAB_OPTIONS, *options]
    command.append(f"--ServerApp.base_url={PREFIX}")
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_answers(f"{origin}{PREFIX}api/status?token={TOKEN}"):
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
            forms = panel.locator(".iyo-form")
            run_all(page, forms.nth(1), timeout=8_000)

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

            saved = save_with_widget_state(page, panel, binder["root"] / "form.ipynb")
        finally:
            browser.close()
    assert not [url for url in blocked if "/iyo/" in url or "/v1/oauth" in url]  # the flows never left Binder
    assert "application/vnd.jupyter.widget-state+json" in saved
    found = [value[:6] + "…" for value in SECRETS if value in saved]
    assert not found and not JWT_PATTERN.search(saved) and "code=" not in saved, found
