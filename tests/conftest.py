"""Shared fixtures: real stand-in servers on loopback, a clean environment, an IPython shell."""

from __future__ import annotations

import copy
import os
import socket
import tempfile
from types import SimpleNamespace

import pytest
from IPython.core.interactiveshell import InteractiveShell

from iyo_magic.server import Accounts, StandIns
from iyo_magic.server.accounts import DEMO, DEMO_ORGANIZATION

ORG = DEMO_ORGANIZATION
ORG_SECRET = DEMO["organizations"][0]["api_keys"][0]["secret"]
BROWSER_ONLY_SECRET = DEMO["organizations"][0]["api_keys"][1]["secret"]
ALICE = DEMO["users"][0]
BOB = DEMO["users"][1]
ALICE_APP, ALICE_SECRET = ALICE["api_keys"][0]["applicationid"], ALICE["api_keys"][0]["secret"]
BOB_APP, BOB_SECRET = BOB["api_keys"][0]["applicationid"], BOB["api_keys"][0]["secret"]
ALL_SECRETS = [ORG_SECRET, BROWSER_ONLY_SECRET, ALICE_SECRET, BOB_SECRET, ALICE["password"], BOB["password"]]


class Clock:
    """A clock that stands still until the test sets ``now``: what is stale is the test's say,
    however slow the machine (a clock that ran on would race the JWT's freshness)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_stale(auth) -> Clock:
    """Stop ``auth``'s clock just past the moment it renews its JWT (no waiting in real time)."""
    jwt = auth.jwt
    leeway = min(60, jwt.lifetime / 2)
    auth.clock = Clock(jwt.expires_at.timestamp() - jwt.clock_offset - leeway + 0.05)
    return auth.clock


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_for(code_standins, port=None, **extra):
    """An Authorization Code request to ``code_standins`` with a loopback redirect URI; and its port."""
    from iyo_magic import LoginRequest

    port = port or free_port()
    return LoginRequest(
        client_id=ORG,
        base_url=code_standins.iyo_url,
        flow="code",
        scopes=(f"user:memberof:{ORG}",),
        redirect_uri=f"http://127.0.0.1:{port}/callback",
        cockpit_url=code_standins.cockpit_url,
        public_key=code_standins.key.public_pem,
        **extra,
    ), port


# No test, kernel or notebook run by the tests reaches the developer's own keyring: --remember
# keeps its JWTs in files unless a test registers a keyring of its own.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
# Nor the user's state directory (the notebooks nbval runs, too; each test gets its own below).
os.environ["IYO_STATE_DIR"] = tempfile.mkdtemp(prefix="iyo-test-state-")


@pytest.fixture(scope="session", autouse=True)
def frozen_imports():
    """Move what the imports made out of the garbage collector's way: each IPython reset runs a
    full collection, which otherwise walks every object of every imported module (about 70 ms,
    twice per test that uses the shell). Objects the tests make are collected as usual."""
    import gc

    import ipywidgets  # noqa: F401 - imported here, before the freeze
    import jupyter_client  # noqa: F401
    import nbformat  # noqa: F401
    import requests  # noqa: F401

    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(autouse=True)
def clean_iyo_environment(monkeypatch, tmp_path):
    """No test sees the developer's IYO_* variables, remembered JWTs or profiles."""
    for name in list(os.environ):
        if name.startswith("IYO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IYO_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("IYO_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(scope="session")
def standins():
    with StandIns() as servers:
        yield servers


@pytest.fixture(scope="session")
def code_standins():
    """Stand-ins whose organization key registers the callback URL ``http://127.0.0.1:``: by the
    real server's raw prefix match, any loopback port is then a valid redirect URI."""
    accounts = copy.deepcopy(DEMO)
    accounts["organizations"][0]["api_keys"][0]["callback_url"] = "http://127.0.0.1:"
    with StandIns(Accounts.from_dict(accounts)) as servers:
        yield servers


@pytest.fixture()
def iyo_env(standins, monkeypatch):
    """The environment `iyo-magic serve` tells users to export, plus the org's credentials."""
    for name, value in standins.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IYO_CLIENT_ID", ORG)
    monkeypatch.setenv("IYO_CLIENT_SECRET", ORG_SECRET)
    return standins


@pytest.fixture()
def alice_env(iyo_env, monkeypatch):
    """`iyo_env` with alice's user API key in place of the organization's."""
    monkeypatch.setenv("IYO_CLIENT_ID", ALICE_APP)
    monkeypatch.setenv("IYO_CLIENT_SECRET", ALICE_SECRET)
    return iyo_env


@pytest.fixture()
def ip():
    """An IPython shell with the extension freshly loaded and an empty namespace."""
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    shell.config.pop("IyoMagics", None)
    shell.extension_manager.load_extension("iyo_magic")
    from iyo_magic.notebook.login_path import for_shell
    from iyo_magic.notebook.magic import IyoMagics

    shell.register_magics(IyoMagics)  # a fresh instance: no setting left by another test
    for_shell(shell).variables.results.clear()  # no result cached from another test
    yield shell
    shell.reset(new_session=False)
    shell.config.pop("IyoMagics", None)  # %config in one test must not reach the next


class LoopbackApp:
    """Serve a small WSGI app on loopback for one test (misbehaving servers, HTML pages)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.server.daemon_threads = True  # closing does not wait for a deliberately slow answer
        import threading

        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def serve_app():
    apps = []

    def start(app):
        apps.append(LoopbackApp(app))
        return apps[-1].url

    yield start
    for app in apps:
        app.close()


class Front:
    """One way in (the Python API or the magic); `run` takes the same options for both."""

    DEFAULTS = dict(
        scopes=(),
        aud=(),
        validity=None,
        refresh=True,
        jwt_only=False,
        no_jwt=False,
        base_url=None,
        public_key="standin",
        timeout=10,
    )

    def __init__(self, standins, ip):
        self.standins, self.ip = standins, ip

    def run(self, client_id, secret, **options) -> dict:
        """Log in; return the access token, JWT and auth it produced. ``public_key="standin"``
        means the stand-ins' own key, ``None`` no signature check."""
        unknown = set(options) - set(self.DEFAULTS)
        assert not unknown, f"unknown options {unknown}"
        return self.login(client_id, secret, SimpleNamespace(**{**self.DEFAULTS, **options}))


class ApiFront(Front):
    """Logs in through the Python API (`iyo_magic.login`)."""

    def login(self, client_id, secret, o):
        from iyo_magic import LoginRequest, login

        request = LoginRequest(
            client_id=client_id,
            base_url=o.base_url or self.standins.iyo_url,
            scopes=tuple(o.scopes),
            audiences=tuple(o.aud),
            validity=o.validity,
            refreshable=o.refresh,
            jwt_only=o.jwt_only,
            want_jwt=not o.no_jwt,
            cockpit_url=self.standins.cockpit_url,
            public_key=self.standins.key.public_pem if o.public_key == "standin" else o.public_key,
            timeout=o.timeout,
        )
        result = login(request, secret)
        return {"access_token": result.access_token, "jwt": result.jwt, "auth": result.auth}


class MagicFront(Front):
    """Logs in through `%iyo_token`, the secret in a notebook variable."""

    def login(self, client_id, secret, o):
        self.ip.user_ns["the_secret"] = secret
        key = str(self.standins.public_key_path) if o.public_key == "standin" else (o.public_key or "none")
        self.ip.run_line_magic("config", f"IyoMagics.jwt_public_key = {key!r}")
        self.ip.run_line_magic("config", f"IyoMagics.timeout = {o.timeout}")
        line = [
            f"--client-id {client_id}",
            "--secret-var the_secret",
            "--fresh",
            f"--base-url {o.base_url or self.standins.iyo_url}",
            f"--cockpit {self.standins.cockpit_url}",
        ]
        line += [f"--scope {s}" for s in o.scopes] + [f"--aud {a}" for a in o.aud]
        if o.validity:
            line.append(f"--validity {o.validity}")
        line += ["--no-refresh"] * (not o.refresh) + ["--jwt-only"] * o.jwt_only + ["--no-jwt"] * o.no_jwt
        self.ip.run_line_magic("iyo_token", " ".join(line))
        ns = self.ip.user_ns
        return {"access_token": ns.get("iyo_access_token"), "jwt": ns.get("iyo_jwt"), "auth": ns.get("iyo_auth")}


class FormFront(MagicFront):
    """Logs in through the form: fields filled, the button clicked; an error shown in the form
    is raised as an `IyoError` with the form's text."""

    def login(self, client_id, secret, o):
        from html import unescape

        from iyo_magic import IyoError, LoginForm

        key = str(self.standins.public_key_path) if o.public_key == "standin" else (o.public_key or "none")
        self.ip.run_line_magic("config", f"IyoMagics.jwt_public_key = {key!r}")
        self.ip.run_line_magic("config", f"IyoMagics.timeout = {o.timeout}")
        form = LoginForm(
            client_id=client_id,
            base_url=o.base_url or self.standins.iyo_url,
            cockpit_url=self.standins.cockpit_url,
            scope=",".join(o.scopes),
            aud=",".join(o.aud),
            validity=o.validity,
            refreshable=o.refresh,
            want_jwt=not o.no_jwt,
            jwt_only=o.jwt_only,
        )
        form.secret.value = secret
        form.button.click()
        form.wait()
        if "iyo-error" in form.message.value:
            raise IyoError(unescape(form.message.value.split(">", 1)[1].rsplit("<", 1)[0]))
        ns = self.ip.user_ns
        return {"access_token": ns.get("iyo_access_token"), "jwt": ns.get("iyo_jwt"), "auth": ns.get("iyo_auth")}


@pytest.fixture(params=[ApiFront, MagicFront, FormFront], ids=["api", "magic", "form"])
def front(request, standins, ip):
    return request.param(standins, ip)
