"""The form in a real browser: Notebook 7 + ipywidgets under Playwright, Debian's Chromium.

Fails once with a wrong secret, succeeds with the right one, runs the Authorization Code flow by
opening the link and logging in on the stand-in's page (the login comes back through the Jupyter
server, under a base URL as JupyterHub and Binder give one), then saves the notebook with widget
state on and finds no secret, password, access token, JWT, code or state in the file. JupyterLab
4 runs the same form in ``test_binder_browser.py``. Skips without Chromium, except when ``CI`` is
set: there it fails.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from .conftest import ALICE, ORG, ORG_SECRET, free_port
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

required_tools = require(
    os.path.exists(CHROMIUM) and importlib.util.find_spec("jupyterlab") is not None, "Chromium and JupyterLab"
)
playwright = playwright_api()

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[1] / "docs"
BASE_URL = "/user/visitor/"
TOKEN = "browser-test-token"


@pytest.fixture(scope="module")
def notebook_server(tmp_path_factory, code_standins):
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("%load_ext iyo_magic"), nbformat.v4.new_code_cell("%iyo_token --form")]
    nbformat.write(notebook, root / "form.ipynb")
    port = free_port()
    # No redirect URI is configured: the code flow returns through the Jupyter server (the
    # extension's callback page).
    env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
    env.update(code_standins.environment(), IYO_CLIENT_ID=ORG, **quiet_jupyter_home(home))
    options = [f"--ServerApp.port={port}", f"--ServerApp.token={TOKEN}", f"--ServerApp.root_dir={root}"]
    command = [sys.executable, "-m", "jupyterlab", *LAB_OPTIONS, *options, f"--ServerApp.base_url={BASE_URL}"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    if not wait_until_answers(f"{origin}{BASE_URL}api/status?token={TOKEN}"):
        server.kill()
        pytest.fail("JupyterLab did not start")
    yield {"url": f"{origin}{BASE_URL}notebooks/form.ipynb?token={TOKEN}", "root": root, "origin": origin}
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def test_form_in_a_real_browser(notebook_server, code_standins, tmp_path):
    shots = DOCS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    code_standins.iyo.state.consents.clear()  # alice consents anew
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(notebook_server["url"])
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.wait_for()
            form = panel.locator(".iyo-form")
            run_all(page, form)

            secret = form.locator(".widget-text input[type=password]").first
            button = form.get_by_role("button", name="Get token and JWT")
            secret.fill("not-the-secret")
            form.get_by_label("Audience", exact=True).fill(ORG)
            button.click()
            form.locator(".iyo-message").get_by_text("client id or secret rejected").wait_for()
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
            assert login_page.url.startswith(f"{notebook_server['origin']}{BASE_URL}iyo/callback?")  # via Jupyter
            assert "code=" not in login_page.content()
            login_page.close()
            form.locator(".iyo-status").get_by_text("alice").wait_for()
            saved = save_with_widget_state(page, panel, notebook_server["root"] / "form.ipynb")
        finally:
            browser.close()

    assert "application/vnd.jupyter.widget-state+json" in saved  # widget state was saved
    issued = [t.token for t in code_standins.iyo.state.access_tokens.values()]
    grants = [(code, g.state) for code, g in code_standins.iyo.state.codes.items()]
    forbidden = [ORG_SECRET, "not-the-secret", ALICE["password"], *issued, *[v for pair in grants for v in pair]]
    found = [value[:6] + "…" for value in forbidden if value and value in saved]
    assert not found and not JWT_PATTERN.search(saved), f"secrets in the saved notebook: {found}"
