"""Students' own keys on a real JupyterHub: two users, each in their own browser, log in through the
hub and run ``%iyo_token -f code`` with a key of their own (its secret in their own server only,
its callback URL their own server's, ending in ``?``); the ItsYou.online stand-in runs as a hub
service (``/services/iyo/``, reached through the hub's proxy) and the login comes back through each
user's own server. A class sharing one key is tests/test_hub_class.py.

Needs jupyterhub (README's test command installs it), configurable-http-proxy (npm) and Debian's
chromium; skipped without them, except under CI, where it fails."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import requests

from iyo_magic.server.demo_user import DemoUser

from .conftest import free_port
from .jupyter_browser import CHROMIUM, LAUNCH_ARGS, playwright_api, require, run_all, wait_until_answers

PROXY = shutil.which("configurable-http-proxy")
required_tools = require(
    bool(PROXY and importlib.util.find_spec("jupyterhub") and os.path.exists(CHROMIUM)),
    "jupyterhub, configurable-http-proxy (npm) and Chromium",
)
playwright = playwright_api()

pytestmark = [pytest.mark.hub, pytest.mark.browser]

ORG = "class-org"
SECRETS = {"alice": "alice-own-key-secret-Hub-8", "bob": "bob-own-key-secret-Hub-9"}
PASSWORDS = {"alice": "alice-class-password-1", "bob": "bob-class-password-2"}
HUB_PASSWORD = "hub-test-password"
CELLS = ["%load_ext iyo_magic", f"%iyo_token -f code --scope user:memberof:{ORG} --no-browser"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub")
    port, api_port, hub_port, iyo_port, cockpit_port = (free_port() for _ in range(5))
    public = f"http://127.0.0.1:{port}"
    accounts = {
        "organizations": [
            {
                "globalid": ORG,
                "api_keys": [
                    {"label": name, "secret": secret, "callback_url": f"{public}/user/{name}/iyo/callback?"}
                    for name, secret in SECRETS.items()
                ],
            }
        ],
        "users": [{"username": name, "password": word, "memberof": [ORG]} for name, word in PASSWORDS.items()],
    }
    (tmp / "accounts.json").write_text(json.dumps(accounts))
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in CELLS]
    for name in PASSWORDS:
        (tmp / "homes" / name).mkdir(parents=True)
        nbformat.write(notebook, tmp / "homes" / name / "login.ipynb")
    state = tmp / "standin"
    service = [
        sys.executable, "-m", "iyo_magic.server.cli", "serve", "--accounts", str(tmp / "accounts.json"),
        "--port", str(iyo_port), "--cockpit-port", str(cockpit_port), "--state-dir", str(state),
    ]  # fmt: skip
    environment = {
        "IYO_BASE_URL": f"{public}/services/iyo",  # the same address for the browser and the kernel
        "IYO_CLIENT_ID": ORG,
        "IYO_JWT_PUBLIC_KEY": str(state / "jwt_pub.pem"),
    }
    config = f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.public_url = {public!r}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{PROXY!r}]
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {HUB_PASSWORD!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(tmp / "homes")!r} + "/{{username}}"
c.Spawner.cmd = [{str(Path(sys.executable).parent / "jupyterhub-singleuser")!r}]
c.Spawner.args = ["--allow-root"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {environment!r}
def own_secret(spawner):  # each student's key in their own server only
    spawner.environment = {{**spawner.environment, "IYO_CLIENT_SECRET": {SECRETS!r}[spawner.user.name]}}
c.Spawner.pre_spawn_hook = own_secret
c.JupyterHub.db_url = "sqlite:///{tmp}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/cookie_secret"
c.JupyterHub.services = [{{"name": "iyo", "url": "http://127.0.0.1:{iyo_port}", "command": {service!r}}}]
"""
    (tmp / "jupyterhub_config.py").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))}
    env.update(HOME=str(tmp), PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    log = (tmp / "hub.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(tmp / "jupyterhub_config.py")],
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        up = wait_until_answers(f"{public}/hub/api", 90) and wait_until_answers(f"{public}/services/iyo/login", 30)
        if not up:
            raise AssertionError((tmp / "hub.log").read_text()[-4000:])
        yield {"url": public, "log": tmp / "hub.log"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def log_in(browser, hub, user):
    """Log ``user`` in to the hub in a browser of their own (the hub starts their server)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{hub['url']}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(HUB_PASSWORD)
    page.locator("#login_submit").click()
    return context, page


def open_login_notebook(hub, user, page):
    """Once ``user``'s server is up: open the login notebook."""
    page.wait_for_url(re.compile(f"/user/{user}/"))
    page.goto(f"{hub['url']}/user/{user}/lab/tree/login.ipynb?reset")


def run_login_notebook(page):
    """Run the open notebook; return its panel and the login link it shows."""
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.wait_for()
    link = panel.locator("a", has_text="Log in at ItsYou.online")
    run_all(page, link)
    return panel, link.get_attribute("href")


def test_a_class_logs_in_through_the_hub(hub):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            # Both log in, both servers and kernels start, at once.
            (alice, alice_page), (bob, bob_page) = log_in(browser, hub, "alice"), log_in(browser, hub, "bob")
            open_login_notebook(hub, "alice", alice_page)
            open_login_notebook(hub, "bob", bob_page)
            alice_panel, alice_link = run_login_notebook(alice_page)
            bob_panel, bob_link = run_login_notebook(bob_page)
            assert (
                f"redirect_uri={requests.utils.quote(hub['url'], safe='')}%2Fuser%2Falice%2Fiyo%2Fcallback"
                in alice_link
            )
            assert "%2Fuser%2Fbob%2Fiyo%2Fcallback" in bob_link  # each their own way back, at the same time

            # Alice logs in at the stand-in; the address it sends her browser to is meant for her server.
            stand_in = DemoUser("alice", PASSWORDS["alice"], follow=False)
            stand_in.visit(alice_link)
            callback = stand_in.landed_on
            assert callback.startswith(f"{hub['url']}/user/alice/iyo/callback?&code=")

            # Opened in Bob's browser, it reaches nothing: Alice's server is not his.
            stray = bob.new_page()
            stray.goto(callback)
            assert "Signed in" not in stray.content()
            assert "iyo: alice" not in alice_panel.inner_text()

            # In Alice's browser it completes her login.
            mine = alice.new_page()
            mine.goto(callback)
            mine.get_by_text("Signed in").wait_for()
            alice_panel.get_by_text("iyo: alice").wait_for()

            # Bob logs in his own way, in his browser, through the proxy.
            login = bob.new_page()
            login.goto(bob_link)
            login.get_by_label("Username").fill("bob")
            login.get_by_label("Password").fill(PASSWORDS["bob"])
            login.get_by_role("button", name="Log in").click()
            login.get_by_role("button", name="Authorize").click()
            login.get_by_text("Signed in").wait_for()
            bob_panel.get_by_text("iyo: bob").wait_for()
            assert "iyo: alice" not in bob_panel.inner_text() and "iyo: bob" not in alice_panel.inner_text()
        finally:
            browser.close()
