"""README's first command as a newcomer meets it: ``iyo-magic demo --no-browser`` from the clone,
JupyterLab in Chromium, then every notebook it serves.

- ``form.ipynb``: Run All, then the second form's code flow through the stand-in's login page
  (with the demo password README's demo prints) to the status card;
- ``quickstart.ipynb``, ``training.ipynb`` and ``cockpit-exploration.ipynb``: Run All, with no
  error output anywhere (training's code flow is played by the demo user: no one is asked to click);
- Ctrl+C stops the demo, JupyterLab and the stand-ins.

The notebooks are the repository's own, as the demo serves them; nothing is saved (autosave off).
"""

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

import nbformat
import pytest

from iyo_magic.server.accounts import DEMO

from .conftest import free_port
from .jupyter_browser import CHROMIUM, LAUNCH_ARGS, playwright_api, quiet_jupyter_home, require, run_all

#: The command README runs, from this environment (pytest may run without it on the PATH).
IYO_MAGIC = shutil.which("iyo-magic", path=str(Path(sys.executable).parent)) or shutil.which("iyo-magic")
required_tools = require(os.path.exists(CHROMIUM) and IYO_MAGIC is not None, "Chromium and the iyo-magic command")
playwright = playwright_api()

pytestmark = pytest.mark.browser
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TOKEN = "newcomer-token"
ALICE_PASSWORD = next(user["password"] for user in DEMO["users"] if user["username"] == "alice")
#: The open notebook's code cells (a JavaScript expression).
CODE_CELLS = "[...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')]"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``iyo-magic demo --no-browser``, as README says, in a home of its own."""
    home = tmp_path_factory.mktemp("newcomer")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))}
    env.update(quiet_jupyter_home(home), JUPYTER_TOKEN=TOKEN, JUPYTER_PORT=str(free_port()))
    docmanager = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"
    docmanager.parent.mkdir(parents=True, exist_ok=True)
    docmanager.write_text(json.dumps({"autosave": False}))  # the repository's notebooks stay as they are
    log = home / "demo.log"
    with log.open("w") as out:
        # README's command, the stand-ins on free ports (two test runs may share a machine).
        command = [IYO_MAGIC, "demo", "--no-browser", "--port", "0", "--cockpit-port", "0"]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['JUPYTER_PORT']}"
    try:
        deadline = time.time() + 90
        while "JupyterLab is starting" not in log.read_text() or not _answers(f"{url}/api/status?token={TOKEN}"):
            if process.poll() is not None or time.time() > deadline:
                pytest.fail(f"iyo-magic demo did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        standin = re.search(r"ItsYou.online stand-in: (\S+)", log.read_text()).group(1)
        yield {"url": url, "log": log, "process": process, "standin": standin}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # Ctrl+C, as README says
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        context = chromium.new_context(viewport={"width": 1100, "height": 1000})
        try:
            yield context
        finally:
            chromium.close()


def open_notebook(context, demo, name: str):
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{demo['url']}/lab/tree/{name}?reset&token={TOKEN}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.wait_for()
    return page, panel


def test_the_form_logs_in_with_the_code_flow(demo, browser):
    page, panel = open_notebook(browser, demo, "form.ipynb")
    forms = panel.locator(".iyo-form")
    run_all(page, forms.nth(1), timeout=10_000)
    second = forms.nth(1)
    second.get_by_role("button", name="Get token and JWT").click()
    link = second.locator("a.iyo-login-link")
    try:
        link.wait_for()
    except playwright.TimeoutError:  # say what the form said (another run holding port 8976, say)
        pytest.fail(f"no login link; the form says: {second.locator('.iyo-message').inner_text()!r}")
    login = browser.new_page()
    login.set_default_timeout(30_000)
    login.goto(link.get_attribute("href"))
    assert "Bad Request" not in login.content()
    login.get_by_label("Username").fill("alice")
    login.get_by_label("Password").fill(ALICE_PASSWORD)
    login.get_by_role("button", name="Log in").click()
    login.wait_for_load_state()
    assert "Bad Request" not in login.content(), "the stand-in refused the login's redirect URI"
    login.get_by_role("button", name="Authorize").click()
    login.get_by_text("Signed in").wait_for()
    second.locator(".iyo-status").get_by_text("alice").wait_for(timeout=30_000)
    assert "user:memberof:cockpit-demo" in second.locator(".iyo-status").inner_text()
    assert not second.locator(".iyo-error").count()
    page.close()


@pytest.mark.parametrize(
    ("notebook", "shows", "pictures"),
    [
        ("quickstart.ipynb", "iyo: cockpit-demo", 0),
        ("training.ipynb", "iyo: alice · scope user:memberof:cockpit-demo", 0),  # its code flow, by the demo user
        ("cockpit-exploration.ipynb", "renewals:", 2),  # the jobs' and the run's timelines
    ],
)
def test_every_other_notebook_runs_all_without_an_error(demo, browser, notebook, shows, pictures, tmp_path):
    page, panel = open_notebook(browser, demo, notebook)
    code_count = sum(1 for cell in nbformat.read(NOTEBOOKS / notebook, 4).cells if cell.cell_type == "code")
    run_all(page, panel.locator(".jp-CodeCell").first.locator(".jp-InputPrompt", has_text="[1]"), timeout=10_000)
    # Every code cell has run: an execution number, not "[*]" or "[ ]".
    page.wait_for_function(
        f"() => {CODE_CELLS}.length == {code_count} && {CODE_CELLS}.every("
        "c => /\\[\\d+\\]/.test(c.querySelector('.jp-InputPrompt').textContent))",
        timeout=150_000,
    )
    errors = panel.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, errors.all_inner_texts()[:3]
    assert shows in panel.inner_text()
    # The timeline cells show their picture, drawn (an image the browser decoded), once each.
    timelines = panel.locator(".jp-CodeCell", has_text=".timeline()")
    assert timelines.count() == pictures
    for number in range(pictures):
        image = timelines.nth(number).locator('.jp-OutputArea-output[data-mime-type="image/png"] img')
        assert image.count() == 1
        assert image.evaluate("img => img.complete && img.naturalWidth") > 500
        image.scroll_into_view_if_needed()
        timelines.nth(number).screenshot(path=str(tmp_path / f"timeline-{number}.png"))
    page.close()


def test_ctrl_c_stops_the_demo(demo):
    demo["process"].send_signal(signal.SIGINT)
    assert demo["process"].wait(timeout=40) == 0, demo["log"].read_text()[-2000:]
    assert not _answers(f"{demo['url']}/api/status?token={TOKEN}")
    assert not _answers(f"{demo['standin']}/")  # the stand-ins stopped too
