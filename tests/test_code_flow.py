"""The Authorization Code flow over real HTTP: a test client plays the browser."""

from __future__ import annotations

import socket

import pytest
import requests

from iyo_magic import ConfigError, IyoError, LoginRequest, login
from iyo_magic.browser.listener import parse_pasted
from iyo_magic.browser.step import BrowserStep
from iyo_magic.server.demo_user import DemoUser

from .conftest import ALICE, BOB, ORG, ORG_SECRET, free_port, request_for


class Shown:
    """The front end's display: records the link and whether it was withdrawn."""

    def __init__(self):
        self.links, self.withdrawn = [], []

    def __call__(self, url):
        self.links.append(url)
        return self.withdrawn.append


def listener_step(browser, port, shown=None, wait=15.0):
    return BrowserStep(show_link=shown or Shown(), listen=str(port), browser=browser.open, wait=wait)


def test_listener_flow_end_to_end(code_standins):
    request, port = request_for(code_standins)
    browser = DemoUser("alice", ALICE["password"])
    shown = Shown()
    result = login(request, ORG_SECRET, code_grant=listener_step(browser, port, shown))
    browser.thread.join(5)
    assert browser.error is None
    assert result.access_token.username == "alice" and result.access_token.scope == (f"user:memberof:{ORG}",)
    assert result.jwt.username == "alice" and result.jwt.scope == (f"user:memberof:{ORG}",) and result.jwt.refreshable
    assert "Signed in" in browser.page and "code" not in browser.page.lower().replace("unicode", "")
    assert shown.withdrawn and "state=" in shown.links[0]
    code = dict(p.split("=") for p in browser.landed_on.split("?")[1].split("&"))["code"]
    assert code not in browser.page
    with socket.socket() as s:  # the listener let go of its port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
    from .test_auth import cockpit_get

    assert cockpit_get(code_standins, result.auth).status_code == 200


def test_user_declines(code_standins):
    request, port = request_for(code_standins)
    browser = DemoUser("bob", BOB["password"], decision="decline")  # bob has not consented yet
    with pytest.raises(IyoError, match="you declined the authorization"):
        login(request, ORG_SECRET, code_grant=listener_step(browser, port))
    browser.thread.join(5)
    assert "Not signed in" in browser.page


def test_timeout_names_the_redirect_uri(code_standins):
    request, port = request_for(code_standins)
    step = BrowserStep(show_link=Shown(), listen=str(port), browser=lambda url: True, wait=0.5)
    with pytest.raises(IyoError, match=rf"within 0.5 s.*redirect URI {request.redirect_uri} is not registered"):
        login(request, ORG_SECRET, code_grant=step)


def test_unregistered_redirect_uri_is_a_400_page_then_a_clear_timeout(code_standins):
    port = free_port()
    request = LoginRequest(
        client_id=ORG, base_url=code_standins.iyo_url, flow="code", redirect_uri=f"http://localhost:{port}/callback"
    )
    browser = DemoUser("alice", ALICE["password"])
    with pytest.raises(IyoError, match=f"redirect URI http://localhost:{port}/callback is not registered"):
        login(request, ORG_SECRET, code_grant=listener_step(browser, port, wait=0.5))
    assert "answered 400" in str(browser.error)


def test_port_in_use(code_standins):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        request, _ = request_for(code_standins, port)
        with pytest.raises(ConfigError, match=f"port {port} is in use"):
            login(request, ORG_SECRET, code_grant=listener_step(DemoUser("a", "b"), port))


def test_no_browser_shows_the_link_and_says_so(code_standins):
    request, port = request_for(code_standins)
    notices = []
    step = BrowserStep(show_link=Shown(), listen=str(port), browser=lambda url: False, wait=0.3, notice=notices.append)
    with pytest.raises(IyoError):
        login(request, ORG_SECRET, code_grant=step)
    assert notices == ["No browser could be opened here: open the link above yourself."]


def test_remote_redirect_uri_needs_listen_or_paste(code_standins):
    request = LoginRequest(
        client_id=ORG,
        base_url=code_standins.iyo_url,
        flow="code",
        redirect_uri="https://hub.example/user/a/proxy/8976/callback",
    )
    with pytest.raises(ConfigError, match="not on this machine: choose the port to listen on with listen .* or paste"):
        login(request, ORG_SECRET, code_grant=BrowserStep(show_link=Shown()))


class Paster:
    """The user: opens the newest link in a browser, then pastes where it landed."""

    def __init__(self, user=ALICE, tamper=None):
        self.user, self.tamper, self.shown = user, tamper, Shown()

    def __call__(self, prompt):
        browser = DemoUser(self.user["username"], self.user["password"], follow=False)
        browser.visit(self.shown.links[-1])
        return self.tamper(browser.landed_on) if self.tamper else browser.landed_on


def paste_login(code_standins, paster):
    request, _ = request_for(code_standins)
    step = BrowserStep(show_link=paster.shown, ask_pasted=paster, paste=True)
    return login(request, ORG_SECRET, code_grant=step)


@pytest.mark.parametrize("shape", ["url", "query", "query-with-?"])
def test_paste_back(code_standins, shape):
    cut = {"url": lambda u: u, "query": lambda u: u.split("?", 1)[1], "query-with-?": lambda u: "?" + u.split("?")[1]}
    result = paste_login(code_standins, Paster(tamper=lambda u: f"  {cut[shape](u)}\n"))
    assert result.jwt.username == "alice"


def test_paste_forged_state(code_standins):
    with pytest.raises(IyoError, match="use the newest link"):
        paste_login(code_standins, Paster(tamper=lambda u: u.split("&state=")[0] + "&state=forged"))


def test_paste_stale_state(code_standins):
    older = []
    first = Paster(tamper=lambda u: older.append(u) or u)
    paste_login(code_standins, first)
    with pytest.raises(IyoError, match="use the newest link"):
        paste_login(code_standins, Paster(tamper=lambda u: older[0]))


def test_paste_expired_code(code_standins, monkeypatch):
    monkeypatch.setattr(code_standins.iyo, "code_lifetime", 0.0)
    with pytest.raises(IyoError, match="a code lives only 10 s"):
        paste_login(code_standins, Paster())


def test_non_member_is_told_what_the_access_token_holds(code_standins):
    with pytest.raises(IyoError, match=f"scope user:memberof:{ORG} refused: the access token has scope none"):
        paste_login(code_standins, Paster(user=BOB))


@pytest.mark.parametrize("text", ["", "hello", "http://127.0.0.1:8976/callback", "state=abc"])
def test_pasted_garbage(text):
    with pytest.raises(ConfigError, match="holds no code"):
        parse_pasted(text)


def test_code_flow_without_refresh_cannot_renew_silently(code_standins):
    request, _ = request_for(code_standins, refreshable=False)
    paster = Paster()
    result = login(request, ORG_SECRET, code_grant=BrowserStep(show_link=paster.shown, ask_pasted=paster, paste=True))
    assert not result.jwt.refreshable
    # The access token is still valid: a new JWT comes from it, without the user.
    assert result.auth.renew().expires_at >= result.jwt.expires_at


def magic_env(monkeypatch, code_standins):
    for name, value in code_standins.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IYO_CLIENT_ID", ORG)
    monkeypatch.setenv("IYO_CLIENT_SECRET", ORG_SECRET)


def test_magic_with_a_named_browser_runs_unattended(ip, code_standins, monkeypatch, capsys):
    from iyo_magic.server.demo_user import play_user

    magic_env(monkeypatch, code_standins)
    user = play_user("alice")
    ip.run_line_magic("config", "IyoMagics.browser = 'iyo-demo-user'")
    port = free_port()
    ip.run_line_magic("iyo_token", f"-f code --scope user:memberof:{ORG} --redirect-uri http://127.0.0.1:{port}/cb")
    user.thread.join(5)
    assert ip.user_ns["iyo_jwt"].username == "alice" and "Signed in" in user.page
    assert "login link removed" in capsys.readouterr().out  # the link was withdrawn


def test_magic_on_a_remote_kernel_does_not_open_a_system_browser(ip, code_standins, monkeypatch, capsys):
    magic_env(monkeypatch, code_standins)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "x")
    with pytest.raises(Exception, match="no answer from the browser within 0.3 s"):
        ip.run_line_magic("iyo_token", f"-f code --redirect-uri http://127.0.0.1:{free_port()}/cb --wait 0.3")
    assert "This kernel seems remote" in capsys.readouterr().out


def test_magic_unknown_browser_name(ip, code_standins, monkeypatch):
    magic_env(monkeypatch, code_standins)
    ip.run_line_magic("config", "IyoMagics.browser = 'no-such-browser'")
    with pytest.raises(Exception, match="no browser named 'no-such-browser'"):
        ip.run_line_magic("iyo_token", "-f code")


def test_the_stand_in_under_a_jupyterhub_service_prefix():
    """As a JupyterHub service: the proxy forwards /services/iyo/..., pages and redirects stay under it."""
    import copy

    from iyo_magic.server import Accounts, StandIns
    from iyo_magic.server.accounts import DEMO

    accounts = copy.deepcopy(DEMO)
    accounts["organizations"][0]["api_keys"][0]["callback_url"] = "http://127.0.0.1:"
    with StandIns(Accounts.from_dict(accounts), prefix="/services/iyo/") as servers:
        assert servers.iyo_url.endswith("/services/iyo")
        request, port = request_for(servers)
        user = DemoUser("alice", ALICE["password"])
        result = login(request, ORG_SECRET, code_grant=listener_step(user, port))
        assert result.jwt.username == "alice"
        page = requests.get(servers.iyo_url + "/login", timeout=5).text
        assert 'action="/services/iyo/login"' in page


def test_paste_where_no_prompt_can_be_answered_is_one_line(ip, code_standins, monkeypatch, capsys):
    from IPython.core.error import UsageError

    magic_env(monkeypatch, code_standins)
    with pytest.raises(UsageError, match="^--paste needs a front end that can ask for input$"):
        ip.run_line_magic("iyo_token", f"-f code --paste --redirect-uri http://127.0.0.1:{free_port()}/cb")
    assert "login link removed" in capsys.readouterr().out  # shown, then withdrawn
