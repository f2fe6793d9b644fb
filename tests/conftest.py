"""Shared fixtures: real stand-in servers on loopback, a clean environment, an IPython shell."""

from __future__ import annotations

import os

import pytest
from IPython.core.interactiveshell import InteractiveShell

from iyo_magic.server import StandIns
from iyo_magic.server.accounts import DEMO, DEMO_ORGANIZATION

ORG = DEMO_ORGANIZATION
ORG_SECRET = DEMO["organizations"][0]["api_keys"][0]["secret"]
BROWSER_ONLY_SECRET = DEMO["organizations"][0]["api_keys"][1]["secret"]
ALICE = DEMO["users"][0]
BOB = DEMO["users"][1]
ALICE_APP, ALICE_SECRET = ALICE["api_keys"][0]["applicationid"], ALICE["api_keys"][0]["secret"]
BOB_APP, BOB_SECRET = BOB["api_keys"][0]["applicationid"], BOB["api_keys"][0]["secret"]
ALL_SECRETS = [ORG_SECRET, BROWSER_ONLY_SECRET, ALICE_SECRET, BOB_SECRET, ALICE["password"], BOB["password"]]


@pytest.fixture(autouse=True)
def clean_iyo_environment(monkeypatch):
    """No test sees the developer's IYO_* variables."""
    for name in list(os.environ):
        if name.startswith("IYO_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def standins():
    with StandIns() as servers:
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
def ip():
    """An IPython shell with the extension freshly loaded and an empty namespace."""
    shell = InteractiveShell.instance()
    shell.reset(new_session=False)
    shell.config.pop("IyoMagics", None)
    shell.extension_manager.load_extension("iyo_magic")
    from iyo_magic.magic import IyoMagics

    shell.register_magics(IyoMagics)  # a fresh instance: no result cached from another test
    yield shell
    shell.reset(new_session=False)
    shell.config.pop("IyoMagics", None)  # %config in one test must not reach the next


class LoopbackApp:
    """Serve a small WSGI app on loopback for one test (misbehaving servers, HTML pages)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
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


class ApiFront:
    """Logs in through the Python API (`iyo_magic.login`)."""

    name = "api"

    def __init__(self, standins, ip):
        self.standins = standins

    def run(
        self,
        client_id,
        secret,
        *,
        scopes=(),
        aud=(),
        validity=None,
        refresh=True,
        jwt_only=False,
        no_jwt=False,
        base_url=None,
        public_key="standin",
        timeout=10,
    ):
        from iyo_magic import LoginRequest, login

        request = LoginRequest(
            client_id=client_id,
            base_url=base_url or self.standins.iyo_url,
            scopes=tuple(scopes),
            audiences=tuple(aud),
            validity=validity,
            refreshable=refresh,
            jwt_only=jwt_only,
            want_jwt=not no_jwt,
            cockpit_url=self.standins.cockpit_url,
            public_key=self.standins.key.public_pem if public_key == "standin" else public_key,
            timeout=timeout,
        )
        result = login(request, secret)
        return {"access_token": result.access_token, "jwt": result.jwt, "auth": result.auth}


class MagicFront:
    """Logs in through `%iyo_token`, the secret in a notebook variable."""

    name = "magic"

    def __init__(self, standins, ip):
        self.standins, self.ip = standins, ip

    def run(
        self,
        client_id,
        secret,
        *,
        scopes=(),
        aud=(),
        validity=None,
        refresh=True,
        jwt_only=False,
        no_jwt=False,
        base_url=None,
        public_key="standin",
        timeout=10,
    ):
        self.ip.user_ns["the_secret"] = secret
        key = str(self.standins.public_key_path) if public_key == "standin" else (public_key or "none")
        self.ip.run_line_magic("config", f"IyoMagics.jwt_public_key = {key!r}")
        self.ip.run_line_magic("config", f"IyoMagics.timeout = {timeout}")
        line = [
            f"--client-id {client_id}",
            "--secret-var the_secret",
            "--fresh",
            f"--base-url {base_url or self.standins.iyo_url}",
            f"--cockpit {self.standins.cockpit_url}",
        ]
        line += [f"--scope {s}" for s in scopes] + [f"--aud {a}" for a in aud]
        if validity:
            line.append(f"--validity {validity}")
        line += ["--no-refresh"] * (not refresh) + ["--jwt-only"] * jwt_only + ["--no-jwt"] * no_jwt
        self.ip.run_line_magic("iyo_token", " ".join(line))
        ns = self.ip.user_ns
        return {"access_token": ns.get("iyo_access_token"), "jwt": ns.get("iyo_jwt"), "auth": ns.get("iyo_auth")}


@pytest.fixture(params=[ApiFront, MagicFront], ids=["api", "magic"])
def front(request, standins, ip):
    return request.param(standins, ip)
