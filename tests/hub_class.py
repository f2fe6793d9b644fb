"""A real JupyterHub class for tests: the ItsYou.online stand-in as a hub service (``/services/iyo/``),
users spawned as local processes with homes of their own, and ``configure_class`` in the config.

``ClassHub.start(tmp, hub_login=...)`` writes the accounts and the config, starts the hub (in its own
process group) and waits for it; ``stop()`` ends the hub with everything it started.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import requests

from .conftest import free_port
from .jupyter_browser import wait_until_answers

PROXY = shutil.which("configurable-http-proxy")
ORG, SECRET = "class-org", "class-org-secret-Kept-In-Hub-7"
PASSWORDS = {"alice": "alice-class-password-1", "bob": "bob-class-password-2"}
#: A hub admin's API token, to make users and tokens through the hub's REST API.
ADMIN_TOKEN = secrets.token_hex(16)


def login_notebook(cells: list[str]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    return notebook


class ClassHub:
    def __init__(self, tmp: Path, hub_login: bool, users: dict[str, str] | None = None) -> None:
        self.tmp, self.hub_login = tmp, hub_login
        self.users = users or PASSWORDS
        port, api_port, hub_port, self.iyo_port, cockpit_port, self.broker_port = (free_port() for _ in range(6))
        self.url = f"http://127.0.0.1:{port}"
        self.iyo = f"{self.url}/services/iyo"
        self.state = tmp / "standin"
        self.state.mkdir(mode=0o700)
        from iyo_magic.hub.config import registered_callback

        self.callback = registered_callback(self.url, hub_login)
        accounts = {
            "organizations": [
                {"globalid": ORG, "api_keys": [{"label": "class", "secret": SECRET, "callback_url": self.callback}]}
            ],
            "users": [{"username": n, "password": w, "memberof": [ORG]} for n, w in self.users.items()],
        }
        (tmp / "accounts.json").write_text(json.dumps(accounts))
        (tmp / "homes").mkdir()
        standin = [
            sys.executable, "-m", "iyo_magic.server.cli", "serve", "--accounts", str(tmp / "accounts.json"),
            "--port", str(self.iyo_port), "--cockpit-port", str(cockpit_port), "--state-dir", str(self.state),
        ]  # fmt: skip
        self.config = f"""
from iyo_magic.hub import configure_class
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.JupyterHub.public_url = {self.url!r}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{PROXY!r}]
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(tmp / "homes")!r} + "/{{username}}"
c.Spawner.cmd = [{str(Path(sys.executable).parent / "jupyterhub-singleuser")!r}]
c.Spawner.args = ["--allow-root"]
c.Spawner.default_url = "/lab"
c.JupyterHub.db_url = "sqlite:///{tmp}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{tmp}/cookie_secret"
c.JupyterHub.services = [
    {{"name": "iyo", "url": "http://127.0.0.1:{self.iyo_port}", "command": {standin!r}}},
    {{"name": "admin-test", "api_token": {ADMIN_TOKEN!r}}},
]
c.JupyterHub.load_roles = [{{"name": "admin-test", "scopes": ["admin:users", "admin:servers", "tokens"],
                             "services": ["admin-test"]}}]
c.Authenticator.allowed_users = {set(self.users)!r}
configure_class(
    c,
    organization={ORG!r},
    base_url={self.iyo!r},
    client_secret={SECRET!r},
    hub_login={hub_login!r},
    jwt_public_key={str(self.state / "jwt_pub.pem")!r},
    broker_port={self.broker_port},
)
"""
        if not hub_login:
            self.config += (
                f'c.JupyterHub.authenticator_class = "dummy"\nc.DummyAuthenticator.password = {SECRET[::-1]!r}\n'
            )
        (tmp / "jupyterhub_config.py").write_text(self.config)
        self.process: subprocess.Popen | None = None

    @property
    def hub_password(self) -> str:
        """The dummy authenticator's password (the broker way: the hub logs in otherwise)."""
        return SECRET[::-1]

    def home(self, user: str) -> Path:
        home = self.tmp / "homes" / user
        home.mkdir(parents=True, exist_ok=True)
        return home

    def start(self) -> ClassHub:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))}
        env.update(
            HOME=str(self.tmp),
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            JUPYTERHUB_CRYPT_KEY=secrets.token_hex(32),
        )
        self.log = (self.tmp / "hub.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(self.tmp / "jupyterhub_config.py")],
            cwd=self.tmp,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        up = wait_until_answers(f"{self.url}/hub/api", 90) and wait_until_answers(f"{self.iyo}/login", 30)
        if not up:
            self.stop()
            raise AssertionError((self.tmp / "hub.log").read_text()[-4000:])
        return self

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        """The hub's REST API as the test's admin service."""
        headers = {"Authorization": f"token {ADMIN_TOKEN}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None
            self.log.close()

    def log_text(self) -> str:
        return (self.tmp / "hub.log").read_text()
