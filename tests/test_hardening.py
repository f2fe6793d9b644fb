"""The adversarial review's findings, each reproduced: where a JWT or a secret could go, what could
hang the listener, and failures that could show a raw traceback (with secrets in its frames)."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import threading
import time

import pytest
import requests
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output
from werkzeug.wrappers import Request, Response

from iyo_magic import CockpitError, CockpitSession, IyoError, LoginRequest, OAuthError, login
from iyo_magic.browser.step import BrowserStep
from iyo_magic.server.accounts import Accounts, AccountsError
from iyo_magic.server.demo_user import DemoUser

from .conftest import ALICE, ORG, ORG_SECRET, free_port, request_for

ACCESS_TOKEN = "tok-Hardening-AccessToken-77"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unsigned_jwt(claims: dict | str) -> str:
    payload = claims if isinstance(claims, str) else b64(claims)
    return f"{b64({'alg': 'ES384', 'typ': 'JWT'})}.{payload}.c2ln"


GOOD_CLAIMS = {"iss": "itsyouonline", "exp": int(time.time()) + 3600, "globalid": ORG, "scope": ["organization:owner"]}


def fake_iyo(token: dict | None = None, jwt: str | None = None):
    """An ItsYou.online that answers with the given token JSON and JWT body."""
    token = {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600} if token is None else token

    def app(environ, start_response):
        path = Request(environ).path
        if path.endswith("/access_token"):
            response = Response(json.dumps(token), content_type="application/json")
        else:
            response = Response(jwt or unsigned_jwt(GOOD_CLAIMS), content_type="application/jwt")
        return response(environ, start_response)

    return app


def verbose_cell(ip, code: str):
    """Run a cell under %xmode Verbose; return its error and everything it printed."""
    ip.run_line_magic("xmode", "Verbose")
    try:
        with capture_output() as captured:
            result = ip.run_cell(code)
    finally:
        ip.run_line_magic("xmode", "Context")
    return result.error_in_exec, captured.stdout + captured.stderr


def assert_one_clean_line(error, output: str, *never: str) -> None:
    assert isinstance(error, UsageError), (error, output)
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    for value in (ORG_SECRET, ACCESS_TOKEN, *never):
        assert value not in output and value not in str(error)


def test_the_python_api_fails_from_its_own_frame_with_no_secret_under_verbose(ip, iyo_env, monkeypatch):
    """A failure of `login` or `JWT.derive` called in a cell: one message, and no frame below the
    API's own, whose arguments would hold the secret or the JWT."""
    from .conftest import ALICE_APP, ALICE_SECRET

    monkeypatch.setenv("WRONG_SECRET", ORG_SECRET + "x")
    ip.user_ns.update(
        login=login,
        org=LoginRequest(client_id=ORG, base_url=iyo_env.iyo_url, public_key=None),
        wrong=lambda: os.environ["WRONG_SECRET"],  # read in a frame that has returned
        alice=login(LoginRequest(client_id=ALICE_APP, base_url=iyo_env.iyo_url, public_key=None), ALICE_SECRET).jwt,
    )
    error, output = verbose_cell(ip, "login(org, wrong)")
    assert isinstance(error, OAuthError) and "client id or secret rejected" in output, output
    assert "_token_request" not in output and "client_credentials(" not in output  # no frame below login
    error, derived = verbose_cell(ip, "alice.derive(scope='organization:owner')")
    assert isinstance(error, OAuthError) and "derived JWT: HTTP 401" in derived and "_jwt_endpoint" not in derived
    for text in (output, derived):
        for value in (ORG_SECRET, ALICE_SECRET, ip.user_ns["alice"].reveal(), "eyJ"):
            assert value not in text


# -- 3. every failure of the magic is one line, whatever %xmode says --------------------------------
@pytest.mark.parametrize(
    "token,claims",
    [
        ({"access_token": ACCESS_TOKEN, "expires_in": "soon"}, None),
        ({"access_token": ACCESS_TOKEN, "expires_in": 1e300}, None),
        ({"access_token": ACCESS_TOKEN, "expires_in": 60, "info": "alice"}, None),
        ({"access_token": ACCESS_TOKEN, "expires_in": 60, "scope": 5}, None),
        (None, {**GOOD_CLAIMS, "exp": "tomorrow"}),
        (None, {**GOOD_CLAIMS, "aud": 5}),
        (None, {**GOOD_CLAIMS, "scope": 5}),
        (None, {**GOOD_CLAIMS, "username": ["alice"]}),
        (None, "DEEP"),
        (None, {**GOOD_CLAIMS, "exp": int(time.time()) - 60}),
        (None, {key: value for key, value in GOOD_CLAIMS.items() if key != "exp"}),
    ],
    ids=[
        "expires_in-text",
        "expires_in-huge",
        "info-text",
        "scope-number",
        "exp-text",
        "aud-number",
        "scope-claim-number",
        "username-list",
        "deeply-nested",
        "expired",
        "no-exp",
    ],
)
def test_malformed_answers_are_one_line(ip, iyo_env, serve_app, token, claims):
    if claims == "DEEP":  # a payload nested past the recursion limit
        claims = base64.urlsafe_b64encode(("[" * 100000 + "]" * 100000).encode()).decode().rstrip("=")
    jwt = unsigned_jwt(claims) if claims is not None else None
    url = serve_app(fake_iyo(token, jwt))
    ip.run_line_magic("config", "IyoMagics.jwt_public_key = 'none'")
    error, output = verbose_cell(ip, f"%iyo_token --base-url {url}")
    assert_one_clean_line(error, output)
    assert "iyo_jwt" not in ip.user_ns


@pytest.mark.parametrize(
    "line,match",
    [
        ("-f code --listen 70000", "--listen PORT: expected a port number"),
        ("-f code --listen -1", "--listen PORT: expected a port number"),
        (
            "-f code --redirect-uri http://127.0.0.1:99999/cb",
            "redirect URI is not a valid URL: its port is not a number",
        ),
        ("-f code --wait nan", "--wait SECONDS must be a number of seconds"),
        ("-f code --wait inf", "--wait SECONDS must be a number of seconds"),
    ],
)
def test_bad_option_values_are_one_line(ip, iyo_env, line, match):
    error, output = verbose_cell(ip, f"%iyo_token {line}")
    assert_one_clean_line(error, output)
    assert match in output


@pytest.mark.parametrize("value", ["nan", "inf", "abc", "-3"])
def test_bad_timeout_setting_is_one_line(ip, iyo_env, monkeypatch, value):
    monkeypatch.setenv("IYO_TIMEOUT", value)
    error, output = verbose_cell(ip, "%iyo_token")
    assert_one_clean_line(error, output)
    assert "IYO_TIMEOUT" in output


def test_ctrl_c_during_a_slow_request_is_one_line(ip, iyo_env, serve_app):
    def slow(environ, start_response):
        time.sleep(3)
        return fake_iyo()(environ, start_response)

    url = serve_app(slow)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    error, output = verbose_cell(ip, f"%iyo_token --base-url {url}")
    assert_one_clean_line(error, output)
    assert "interrupted; nothing was stored" in output and time.monotonic() - started < 2.5


def test_a_bug_keeps_its_traceback_in_the_log_only(ip, iyo_env, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("iyo_magic.notebook.login_path.login", broken)
    error, output = verbose_cell(ip, "%iyo_token")
    assert_one_clean_line(error, output)
    assert "unexpected error (ZeroDivisionError)" in output
    assert any(record.exc_info and record.exc_info[0] is ZeroDivisionError for record in caplog.records)


# -- 4, 5 and low: a secret where a name is expected, %logstart, shell-escaped secrets --------------
def history_texts(ip) -> str:
    history = ip.history_manager
    history.writeout_cache()
    rows = history.db.execute("SELECT source, source_raw FROM history").fetchall()
    memory = [*history.input_hist_raw, *history.input_hist_parsed]
    memory += [v for k, v in ip.user_ns.items() if k.startswith("_i") and isinstance(v, str)]
    return "\n".join([*memory, *(a + b for a, b in rows)])


@pytest.mark.parametrize(
    "line,secret",
    [
        ("--secret-var typed-Secret-2", "typed-Secret-2"),
        ("--secret-env typed-Secret-3", "typed-Secret-3"),
        ("--client-id typed-Secret-4 --secret-env IYO_NOT_SET_ANYWHERE", "typed-Secret-4"),
        ('--client-secret "Sec\\"retA1"', 'Sec"retA1'),
        ("--client-secret Sec\\ retB2", "Sec retB2"),
    ],
    ids=["secret-var", "secret-env", "client-id", "double-quoted-escape", "backslash-space"],
)
def test_a_secret_in_the_wrong_place_leaves_no_trace(ip, iyo_env, tmp_path, line, secret):
    log_file = tmp_path / "session.py"
    ip.run_line_magic("logstart", f"-o {log_file}")
    try:
        with capture_output() as captured:
            ip.run_cell(f"%iyo_token {line}", store_history=True)
    finally:
        ip.run_line_magic("logstop", "")
    fragments = {secret, secret.replace('"', '\\"'), secret.split()[-1], secret.split('"')[-1]}
    places = {
        "output": captured.stdout + captured.stderr,
        "history": history_texts(ip),
        "%logstart file": log_file.read_text(),
    }
    for where, text in places.items():
        found = [fragment for fragment in fragments if fragment in text]
        assert not found, f"{found} in {where}"
    assert "<removed>" in places["%logstart file"]


# -- 1, 2, 7, medium: the Cockpit session --------------------------------------------------------
@pytest.fixture()
def auth(iyo_env):
    request = LoginRequest(
        client_id=ORG, base_url=iyo_env.iyo_url, public_key=iyo_env.key.public_pem, cockpit_url=iyo_env.cockpit_url
    )
    return login(request, ORG_SECRET).auth


class Recorder:
    """A server that records what it was sent, and answers with ``status``."""

    def __init__(self, status=401, body="not here"):
        self.seen: list[dict] = []
        self.status, self.body = status, body

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.seen.append({"path": request.path, "authorization": request.headers.get("Authorization")})
        return Response(self.body, self.status)(environ, start_response)


def test_cockpit_session_refuses_urls_outside_the_cockpit(iyo_env, auth, serve_app):
    other = Recorder(200)
    other_url = serve_app(other)
    cockpit = CockpitSession(iyo_env.cockpit_url, auth)
    for url in (f"{other_url}/steal", "http://cockpit-elsewhere.example.invalid/x", f"{iyo_env.iyo_url}/api/x"):
        with pytest.raises(CockpitError, match="iyo_cockpit calls only the Cockpit at"):
            cockpit.get(url)
    assert other.seen == []
    assert cockpit.get(f"{iyo_env.cockpit_url}/ays/repository").status_code == 200  # its own absolute URL


def test_a_redirect_elsewhere_gets_no_jwt_and_costs_no_renewal(iyo_env, auth, serve_app):
    foreign = Recorder(401)
    foreign_url = serve_app(foreign)

    def cockpit(environ, start_response):
        return Response("", 302, headers={"Location": f"{foreign_url}/elsewhere"})(environ, start_response)

    with pytest.raises(CockpitError, match="401"):
        CockpitSession(serve_app(cockpit) + "/api", auth).get("/ays/repository")
    assert [seen["authorization"] for seen in foreign.seen] == [None]
    assert auth.renewals == 0


def test_a_cockpit_that_always_answers_401_costs_one_renewal(iyo_env, auth, monkeypatch):
    monkeypatch.setattr(iyo_env.cockpit, "organization", "someone-else")
    cockpit = CockpitSession(iyo_env.cockpit_url, auth)
    for _ in range(3):
        with pytest.raises(CockpitError, match="401"):
            cockpit.get("/ays/repository")
    assert auth.renewals == 1


def test_cockpit_errors_never_repeat_the_jwt(iyo_env, auth, serve_app):
    def echo(environ, start_response):
        sent = Request(environ).headers.get("Authorization", "")
        body = json.dumps({"code": 400, "error": f"bad token {sent}"})
        return Response(body, 400, content_type="application/json")(environ, start_response)

    with pytest.raises(CockpitError) as info:
        CockpitSession(serve_app(echo) + "/api", auth).get("/ays/repository")
    jwt = auth.jwt.reveal()
    assert "bad token bearer <removed>" in str(info.value)
    assert jwt not in str(info.value) and all(jwt not in str(arg) for arg in info.value.args)
    assert jwt[:20] not in info.value.body


def test_a_cockpit_that_is_down_is_one_line(auth):
    cockpit = CockpitSession(f"http://127.0.0.1:{free_port()}/api", auth)
    with pytest.raises(CockpitError, match="cannot reach it .*ConnectionError") as info:
        cockpit.get("/ays/repository")
    assert "\n" not in str(info.value) and info.value.__suppress_context__


# -- 8: proxies ------------------------------------------------------------------------------------
def test_loopback_never_goes_through_a_proxy(iyo_env, serve_app, monkeypatch):
    proxy = Recorder(200, "proxied")
    proxy_url = serve_app(proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy_url)
    request = LoginRequest(
        client_id=ORG, base_url=iyo_env.iyo_url, public_key=iyo_env.key.public_pem, cockpit_url=iyo_env.cockpit_url
    )
    result = login(request, ORG_SECRET)
    assert result.cockpit.get("/ays/repository").status_code == 200
    assert proxy.seen == []
    # requests on its own would have used the proxy: the rule is ours
    assert requests.get(f"{iyo_env.iyo_url}/v1/oauth/jwt", timeout=5).text == "proxied"


# -- 6 and medium: the listener --------------------------------------------------------------------
def idle_connection(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    return connection  # sends nothing, ever


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_an_idle_connection_does_not_hold_the_wait_past_its_deadline(code_standins):
    port = free_port()
    held = []
    step = BrowserStep(
        show_link=lambda url: held.append(idle_connection(port)) or (lambda note: None),
        open_browser=False,
        wait=0.5,
    )
    started = time.monotonic()
    with pytest.raises(IyoError, match="no answer from the browser within 0.5 s"):
        login(request_for(code_standins, port)[0], ORG_SECRET, code_grant=step)
    assert time.monotonic() - started < 1.5  # within a second of its deadline
    assert port_is_free(port)
    held[0].close()


def test_cancel_ends_the_wait_despite_an_idle_connection(ip, code_standins, monkeypatch):
    from iyo_magic import LoginForm

    for name, value in code_standins.environment().items():
        monkeypatch.setenv(name, value)
    port = free_port()
    form = LoginForm(flow="code", client_id=ORG, redirect_uri=f"http://127.0.0.1:{port}/callback", no_browser=True)
    form.secret.value = ORG_SECRET
    form.button.click()
    deadline = time.monotonic() + 10
    while "href=" not in form.link.value and time.monotonic() < deadline:
        time.sleep(0.05)
    held = idle_connection(port)
    form.cancel.click()
    cancelled = time.monotonic()
    form.wait(5)
    assert not form.worker.is_alive() and time.monotonic() - cancelled < 1.0
    assert port_is_free(port) and "href=" not in form.link.value and "state=" not in form.link.value
    held.close()


def test_the_listener_ignores_answers_that_are_not_its_own(code_standins):
    port = free_port()
    pages = []

    def open_browser(url):
        for probe in ("/anything?state=", "/callback?state=forged&code=x", "/callback?error=access_denied"):
            answer = requests.get(f"http://127.0.0.1:{port}{probe}", timeout=5)
            pages.append((answer.status_code, "Not signed in" in answer.text))
        return DemoUser("alice", ALICE["password"]).open(url)

    step = BrowserStep(show_link=lambda url: lambda note: None, browser=open_browser, wait=10)
    result = login(request_for(code_standins, port)[0], ORG_SECRET, code_grant=step)
    assert result.jwt.username == "alice"
    assert pages == [(400, True)] * 3


def test_the_browser_hears_of_a_failed_exchange(code_standins):
    port = free_port()
    user = DemoUser("alice", ALICE["password"])
    step = BrowserStep(show_link=lambda url: lambda note: None, browser=user.open, wait=10)
    with pytest.raises(OAuthError, match="code exchange refused"):
        login(request_for(code_standins, port)[0], "not-the-secret", code_grant=step)
    user.thread.join(10)
    assert "Not signed in" in user.page and "Signed in" not in user.page.replace("Not signed in", "")


# -- medium: lost variables, a trickling or huge answer, settings -------------------------------
def test_an_identical_call_after_reset_restores_the_variables(ip, iyo_env):
    with capture_output() as first:
        ip.run_line_magic("iyo_token", f"--aud {ORG}")
    jwt = ip.user_ns["iyo_jwt"]
    ip.run_line_magic("reset", "-f")
    with capture_output() as again:
        ip.run_line_magic("iyo_token", f"--aud {ORG}")
    assert "no request made; restored iyo_access_token, iyo_jwt, iyo_auth, iyo_cockpit" in again.stdout
    assert ip.user_ns["iyo_jwt"] is jwt and "iyo_cockpit" in ip.user_ns
    del ip.user_ns["iyo_jwt"]
    with capture_output() as third:
        ip.run_line_magic("iyo_token", f"--aud {ORG}")
    assert "restored iyo_jwt;" in third.stdout and ip.user_ns["iyo_jwt"] is jwt
    assert "iyo: cockpit-demo" in first.stdout


def test_a_trickling_answer_meets_the_deadline(ip, iyo_env, serve_app):
    def trickle(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "1000")])

        def body():
            for _ in range(100):
                time.sleep(0.2)
                yield b" "

        return body()

    ip.run_line_magic("config", "IyoMagics.timeout = 0.5")
    started = time.monotonic()
    with pytest.raises(UsageError, match="no answer from .* within 0.5 s"):
        ip.run_line_magic("iyo_token", f"--base-url {serve_app(trickle)}")
    assert time.monotonic() - started < 1.5


def test_a_huge_answer_is_cut_short(ip, iyo_env, serve_app):
    def huge(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return (b"x" * 65536 for _ in range(16384))  # 1 GiB

    started = time.monotonic()
    with pytest.raises(UsageError, match="larger than 1024 KiB"):
        ip.run_line_magic("iyo_token", f"--base-url {serve_app(huge)}")
    assert time.monotonic() - started < 5


def test_a_trailing_space_in_the_base_url_is_forgiven(ip, iyo_env, monkeypatch):
    monkeypatch.setenv("IYO_BASE_URL", iyo_env.iyo_url + " ")
    with capture_output() as captured:
        ip.run_line_magic("iyo_token", "")
    assert "iyo: cockpit-demo" in captured.stdout


# -- low: the stand-ins ----------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["/login", "/authorize"])
def test_the_stand_in_pages_redirect_only_to_themselves(code_standins, page):
    standins = code_standins  # its consents are not what test_iyo_server looks at
    browser = requests.Session()
    form = {"username": "alice", "password": ALICE["password"], "endpoint": "//evil.example/phish"}
    answer = browser.post(standins.iyo_url + "/login", data=form, allow_redirects=False, timeout=5)
    assert answer.headers["Location"].startswith("/v1/oauth/authorize")
    if page == "/authorize":
        fields = {"client_id": ORG, "scope": "user:memberof:" + ORG, "decision": "authorize", "endpoint": "//evil"}
        answer = browser.post(standins.iyo_url + "/authorize", data=fields, allow_redirects=False, timeout=5)
        assert answer.headers["Location"].startswith("/v1/oauth/authorize")


def test_a_malformed_request_line_gets_a_400(standins):
    port = int(standins.iyo_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(b"NOT A REQUEST LINE AT ALL\r\n\r\n")
        reply = b"".join(iter(lambda: connection.recv(4096), b""))
    assert b"Error code: 400" in reply  # an HTTP/0.9-style error page: no status line to send


@pytest.mark.parametrize(
    "accounts,error",
    [
        ({"organizations": [{"globalid": "o", "api_keys": [{"secret": 123}]}]}, "api_keys[0].secret must be"),
        ({"users": [{"username": "u", "memberof": "org1"}]}, "users[0].memberof must be a list of strings"),
        ({"users": [{"username": "u", "api_keys": [{"applicationid": "a"}]}]}, "'secret' in users[0].api_keys[0]"),
    ],
    ids=["numeric-secret", "memberof-string", "key-without-secret"],
)
def test_the_accounts_file_is_checked_at_load(accounts, error):
    with pytest.raises(AccountsError, match=error.replace("[", r"\[").replace("]", r"\]")):
        Accounts.from_dict(accounts)
