"""A class on a real JupyterHub, set up by ``iyo_magic.hub.configure_class``, both ways, with two
users in their own browsers (Chromium): each notebook gets its own user's JWT, the class secret is
in no student's server, kernel, file or output, and an attacking student (bob) gets nothing of
alice's with the links he can craft.

Needs jupyterhub, oauthenticator, configurable-http-proxy (npm) and Debian's chromium; skipped
without them, except under CI, where it fails."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

import nbformat
import pytest
import requests

from .hub_class import ORG, PASSWORDS, PROXY, SECRET, ClassHub, login_notebook
from .jupyter_browser import CHROMIUM, LAUNCH_ARGS, playwright_api, require, run_all

required_tools = require(
    bool(
        PROXY
        and importlib.util.find_spec("jupyterhub")
        and importlib.util.find_spec("oauthenticator")
        and os.path.exists(CHROMIUM)
    ),
    "jupyterhub, oauthenticator, configurable-http-proxy (npm) and Chromium",
)
playwright = playwright_api()

pytestmark = [pytest.mark.hub, pytest.mark.browser]


def start_hub(tmp: Path, hub_login: bool, cells: list[str]) -> ClassHub:
    hub = ClassHub(tmp, hub_login=hub_login)
    for user in PASSWORDS:
        nbformat.write(login_notebook(cells), hub.home(user) / "login.ipynb")
    return hub.start()


@pytest.fixture()
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in_at_iyo(page, user: str) -> None:
    """Through the stand-in's login and consent pages as ``user``, each only if it is asked."""
    username, authorize = page.get_by_label("Username"), page.get_by_role("button", name="Authorize")
    username.or_(authorize).or_(page.get_by_text("Signed in")).first.wait_for()
    if username.count():
        username.fill(user)
        page.get_by_label("Password").fill(PASSWORDS[user])
        page.get_by_role("button", name="Log in").click()
        authorize.or_(page.get_by_text("Signed in")).or_(page.locator(".jp-LabShell")).first.wait_for()
    if authorize.count():
        authorize.click()


def open_notebook(hub: ClassHub, page, user: str):
    page.wait_for_url(re.compile(f"/user/{user}/"), timeout=90_000)
    page.goto(f"{hub.url}/user/{user}/lab/tree/login.ipynb?reset")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.wait_for(timeout=90_000)
    return panel


def in_their_own_browsers(browser, hub: ClassHub, log_in) -> dict:
    """Each user in a browser context of their own, logged in to the hub by ``log_in(page,
    user)``, their login notebook open: {user: (context, page, notebook panel)}."""
    pages = {}
    for user in PASSWORDS:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(60_000)
        log_in(page, user)
        pages[user] = (context, page, open_notebook(hub, page, user))
    return pages


def student_processes(user: str) -> list[int]:
    """The processes of ``user``'s server and kernels (found by their hub environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if f"JUPYTERHUB_USER={user}".encode() in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def assert_no_class_secret_with(hub: ClassHub, panels) -> None:
    """No environment, file or output of a student's server or kernel holds the class secret."""
    for user in PASSWORDS:
        processes = student_processes(user)
        assert len(processes) >= 2, f"{user}'s server and kernel are running"
        for pid in processes:
            assert SECRET.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
        for path in hub.home(user).rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path
    for panel in panels:
        assert SECRET not in panel.inner_text()


def assert_refused_by_iyo(page, user: str, url: str) -> None:
    """``url`` (an authorize link), opened by ``user``, ends on ItsYou.online's 400 page, not
    anywhere the redirect URI points (ItsYou.online asks for the login before it checks)."""
    answer = page.goto(url)
    if page.get_by_label("Username").count():
        page.get_by_label("Username").fill(user)
        page.get_by_label("Password").fill(PASSWORDS[user])
        with page.expect_response(lambda r: "/v1/oauth/authorize" in r.url) as final:
            page.get_by_role("button", name="Log in").click()
        answer = final.value
    assert answer is not None and answer.status == 400, (answer and answer.status, page.url)
    assert "/user/bob" not in urlsplit(page.url).path


def follow_until(context, url: str, prefix: str) -> str:
    """Follow ``url``'s redirects in ``context`` (its cookies) up to the first address under
    ``prefix``, and return it unvisited: a link the attacker can send."""
    for _ in range(10):
        url = urljoin(url, context.request.get(url, max_redirects=0).headers.get("location", ""))
        if url.startswith(prefix):
            return url
    raise AssertionError(f"no redirect to {prefix}")


def authorize_link(hub: ClassHub, redirect_uri: str, state: str = "m") -> str:
    query = {"response_type": "code", "client_id": ORG, "redirect_uri": redirect_uri, "state": state}
    return f"{hub.iyo}/v1/oauth/authorize?{urlencode({**query, 'scope': f'user:memberof:{ORG}'})}"


def test_hub_login_each_student_gets_their_own_jwt_and_no_secret(tmp_path, browser):
    """``hub_login=True``: the hub logs users in with ItsYou.online; ``%iyo_token`` alone."""
    hub = start_hub(tmp_path, True, ["%load_ext iyo_magic", "%iyo_token", "%iyo_token --status"])
    try:

        def log_in(page, user):
            page.goto(f"{hub.url}/hub/oauth_login")
            sign_in_at_iyo(page, user)

        pages = in_their_own_browsers(browser, hub, log_in)
        for user, (_, page, panel) in pages.items():
            run_all(page, panel.get_by_text(f"iyo: {user}"))
            panel.get_by_text("from the hub's ItsYou.online login (no client secret in this kernel)").wait_for()
        alice_panel, bob_panel = pages["alice"][2], pages["bob"][2]
        assert "iyo: bob" not in alice_panel.inner_text() and "iyo: alice" not in bob_panel.inner_text()
        assert_no_class_secret_with(hub, [alice_panel, bob_panel])

        # bob's crafted links, opened in alice's browser (she has authorized the class already)
        alice = pages["alice"][0].new_page()
        for stray in (f"{hub.url}/user/bob/iyo/callback", f"{hub.callback[:-1]}/../../user/bob/iyo/callback?"):
            assert_refused_by_iyo(alice, "alice", authorize_link(hub, stray))  # the raw prefix admits neither
        # bob's own state: the hub's login redirect in his browser, not followed, sent to alice
        answer = alice.goto(
            follow_until(pages["bob"][0], f"{hub.url}/hub/oauth_login", f"{hub.iyo}/v1/oauth/authorize")
        )
        assert answer is not None and answer.status >= 400  # the hub's state cookie is bob's, not hers
        # ... and replayed in bob's own browser (whose state cookie matches), it logs no one in
        replay = pages["bob"][0].new_page()
        answer = replay.goto(alice.url)
        assert answer is not None and answer.status == 400, answer and answer.status
        who = pages["bob"][0].request.get(f"{hub.url}/hub/api/user").json()
        assert who["name"] == "bob", who
        assert hub.api("GET", "/users/bob").json()["name"] == "bob"
        bob_state = hub.api("GET", "/users/bob").json().get("auth_state") or {}
        assert "alice" not in str(bob_state.get("oauth_user"))
        assert "iyo: alice" not in bob_panel.inner_text()
    finally:
        hub.stop()


def test_broker_each_student_gets_their_own_jwt_and_no_secret(tmp_path, browser):
    """``hub_login=False``: the hub logs in otherwise; the broker runs the code flow."""
    hub = start_hub(tmp_path, False, ["%load_ext iyo_magic", "%iyo_token -f code --no-browser", "%iyo_token --status"])
    try:

        def log_in(page, user):
            page.goto(f"{hub.url}/hub/login")
            page.locator("#username_input").fill(user)
            page.locator("#password_input").fill(hub.hub_password)
            page.locator("#login_submit").click()

        pages = in_their_own_browsers(browser, hub, log_in)

        # Forged forwarding headers and anonymous requests to alice's server change nothing.
        for method in ("OPTIONS", "GET"):
            requests.request(
                method,
                f"{hub.url}/user/alice/api/kernels",
                headers={"X-Forwarded-Host": "hub.evil.invalid", "X-Forwarded-Proto": "http"},
                timeout=10,
            )
        links = {}
        for user, (_, page, panel) in pages.items():
            link = panel.locator("a", has_text="Log in at ItsYou.online")
            run_all(page, link)
            links[user] = link.get_attribute("href")
            assert links[user].startswith(f"{hub.url}/services/iyo-broker/start/")
        assert links["alice"] != links["bob"]

        alice_context, bob_context = pages["alice"][0], pages["bob"][0]
        alice_panel, bob_panel = pages["alice"][2], pages["bob"][2]
        alice = alice_context.new_page()
        # bob's login link, opened in alice's browser: refused, nothing done
        alice.goto(links["bob"])
        alice.get_by_text("belongs to another hub user").wait_for()
        # bob's crafted redirect URIs: refused by ItsYou.online's raw prefix match
        for stray in (f"{hub.url}/user/bob/iyo/callback", f"{hub.callback[:-1]}/../../../user/bob/iyo/callback?"):
            assert_refused_by_iyo(alice, "alice", authorize_link(hub, stray))

        # alice logs in with her own link
        alice.goto(links["alice"])
        sign_in_at_iyo(alice, "alice")
        alice.get_by_role("heading", name="Signed in").wait_for()
        alice_panel.get_by_text("iyo: alice").wait_for()
        alice_panel.get_by_text("from the class's login broker (no client secret in this kernel)").wait_for()

        # bob's own state, opened in alice's browser: bob's kernel (he runs any code there) starts
        # a login, his browser follows its link up to ItsYou.online, and alice opens that address.
        # She has authorized the class, so ItsYou.online sends her code back at once, with his state.
        bob_token = hub.api("POST", "/users/bob/tokens", json={"note": "bob's kernel"}).json()["token"]
        broker = f"http://127.0.0.1:{hub.broker_port}/services/iyo-broker/"
        bob_kernel = {"Authorization": f"token {bob_token}"}
        started = requests.post(broker + "logins", data={"scope": ""}, headers=bob_kernel)  # as alice's was
        to_iyo = follow_until(bob_context, started.json()["link"], f"{hub.iyo}/v1/oauth/authorize")
        assert dict(parse_qsl(urlsplit(to_iyo).query))["redirect_uri"] == hub.callback
        alice.goto(to_iyo)
        alice.get_by_text("started by another hub user").wait_for()
        # bob replays where alice's browser was sent (her code, his state) in his own browser
        replay = bob_context.new_page()
        replay.goto(alice.url)
        assert "Signed in" not in replay.content()
        collected = requests.get(f"{broker}logins/{started.json()['id']}", headers=bob_kernel, timeout=30).json()
        assert collected["status"] == "failed" and "access_token" not in collected

        # bob logs in himself; his kernel gets his JWT, never alice's
        bob = bob_context.new_page()
        bob.goto(links["bob"])
        sign_in_at_iyo(bob, "bob")
        bob.get_by_role("heading", name="Signed in").wait_for()
        bob_panel.get_by_text("iyo: bob").wait_for()
        # what a student's kernel can send the broker is bounded: odd waits, huge scopes, floods
        for wait in ("nan", "inf", "abc", "-1"):
            odd = requests.get(f"{broker}logins/{started.json()['id']}?wait={wait}", headers=bob_kernel, timeout=30)
            assert odd.status_code == 400, (wait, odd.status_code)
        huge = requests.post(broker + "logins", data={"scope": "x," * 5000}, headers=bob_kernel, timeout=30)
        assert huge.status_code == 400
        flood = [
            requests.post(broker + "logins", data={"scope": ""}, headers=bob_kernel).json()["id"] for _ in range(7)
        ]
        kept = [requests.get(f"{broker}logins/{x}", headers=bob_kernel, timeout=30).status_code for x in flood]
        assert kept == [404, 404] + [200] * 5  # five logins in progress per user: the oldest go
        assert "iyo: alice" not in bob_panel.inner_text() and "iyo: bob" not in alice_panel.inner_text()
        assert_no_class_secret_with(hub, [alice_panel, bob_panel])
        broker_log = hub.log_text()
        assert "code=" not in re.sub(r"code=\[secret\]", "", broker_log)  # no code in any log line
        assert quote(SECRET) not in broker_log and SECRET not in broker_log
    finally:
        hub.stop()
