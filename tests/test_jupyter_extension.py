"""The Jupyter server extension and the return through it: a real Jupyter server (its base URL
under ``/user/alice/``, as on JupyterHub and Binder) and the stand-ins, over real HTTP."""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from iyo_magic.browser import handoff
from iyo_magic.server.demo_user import DemoUser

from .conftest import ALICE, ORG, ORG_SECRET, free_port

pytest.importorskip("jupyter_server")
pytestmark = pytest.mark.kernel
TOKEN = "test-server-token-4Gq"
BASE = "/user/alice/"


@contextlib.contextmanager
def running_jupyter(
    home: Path, *options: str, runtime: Path | None = None, base: str = BASE, prefix: tuple = (), **env: str
):
    """A Jupyter server with the extension enabled as installed (its config data file), under
    ``home``; ``options`` and ``env`` are added to its command line and environment, ``prefix``
    goes before it (``OWN_PID_NAMESPACE``)."""
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("IYO_", "JUPYTER"))},
        "HOME": str(home),
        "JUPYTER_RUNTIME_DIR": str(runtime or home / "runtime"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "IPYTHONDIR": str(home / "ipython"),
        **env,
    }
    command = [
        *prefix,
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={base}",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={home}",
        "--ServerApp.log_level=DEBUG",
        *options,
    ]
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}{base}"
    try:
        for _ in range(200):
            try:
                if requests.get(f"{url}api/status", params={"token": TOKEN}, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError((home / "server.log").read_text()[-3000:])
        runtime = Path(environment["JUPYTER_RUNTIME_DIR"])
        yield {"url": url, "id": marker_id(runtime, base), "runtime": runtime, "log": home / "server.log"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the group: unshare itself ignores SIGTERM
        server.wait(timeout=20)
        log.close()


def marker_id(runtime: Path, base: str) -> str:
    """The id of the server whose marker in ``runtime`` is for ``base``: what its kernels inherit."""
    for path in runtime.glob("iyo-server-*.json"):
        if (handoff.read(path) or {}).get("base_url") == base:
            return path.stem.removeprefix("iyo-server-")
    raise AssertionError(f"no marker for {base} in {runtime}")


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    with running_jupyter(tmp_path_factory.mktemp("jupyter")) as server:
        yield server


def callback(jupyter, token=TOKEN, **query):
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(
        f"{jupyter['url']}iyo/callback", params=query, headers=headers, timeout=30, allow_redirects=False
    )


def pending(jupyter, state):
    handoff.write_private(handoff.login_file(state, handoff.PENDING, jupyter["runtime"]), {"pid": 1})


def test_the_server_marks_its_presence_for_its_kernels(jupyter):
    requests.get(f"{jupyter['url']}api/status", params={"token": TOKEN}, timeout=5)  # a browser-like request
    deadline = time.monotonic() + 5
    while True:  # the address is noted once the request is logged, just after its answer
        marker = handoff.read(handoff.server_file(jupyter["id"], jupyter["runtime"]))
        if marker["origin"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert marker["base_url"] == BASE and marker["origin"].startswith("http://127.0.0.1:")
    assert oct(handoff.server_file(jupyter["id"], jupyter["runtime"]).stat().st_mode & 0o777) == "0o600"


def test_the_page_needs_the_jupyter_login(jupyter):
    pending(jupyter, "state-Anon-1")
    answer = callback(jupyter, token=None, code="code-Anon-1", state="state-Anon-1")
    assert answer.status_code == 403 and "not logged in" in answer.text  # no redirect whose ?next= holds the code
    assert "code-Anon-1" not in answer.text + answer.headers.get("Location", "")
    assert not handoff.login_file("state-Anon-1", handoff.ANSWER, jupyter["runtime"]).exists()


@pytest.mark.parametrize(
    "query,status,words",
    [
        (
            {"code": "code-Unknown-2", "state": "state-Unknown-2"},
            400,
            "not a login that a notebook here is waiting for",
        ),
        ({"code": "code-NoState-3"}, 400, "not a login that a notebook here is waiting for"),
        ({"state": "state-NoCode-4"}, 400, "holds no answer"),
    ],
    ids=["unknown-state", "no-state", "no-code"],
)
def test_what_the_page_refuses(jupyter, query, status, words):
    if query.get("state") == "state-NoCode-4":
        pending(jupyter, "state-NoCode-4")
    answer = callback(jupyter, **query)
    assert answer.status_code == status and words in answer.text
    assert all(value not in answer.text for value in query.values())


def test_one_answer_once_and_the_browser_hears_the_outcome(jupyter):
    state, code = "state-Good-5", "code-Good-5"
    pending(jupyter, state)

    def kernel():  # what ServerHandoff does: take the answer, then tell how the login ended
        answer_file = handoff.login_file(state, handoff.ANSWER, jupyter["runtime"])
        for _ in range(200):
            answer = handoff.read(answer_file)
            if answer:
                assert answer["code"] == code
                handoff.write_private(
                    handoff.login_file(state, handoff.OUTCOME, jupyter["runtime"]), {"succeeded": True}
                )
                return
            time.sleep(0.05)

    threading.Thread(target=kernel, daemon=True).start()
    first = callback(jupyter, code=code, state=state)
    assert first.status_code == 200 and "Signed in" in first.text
    assert code not in first.text and state not in first.text
    replay = callback(jupyter, code=code, state=state)
    assert replay.status_code == 409 and "used already" in replay.text
    time.sleep(0.2)
    assert code not in jupyter["log"].read_text() and state not in jupyter["log"].read_text()


@pytest.mark.parametrize("query", ["?&code={code}&state={state}", "?code={code}&state={state}"], ids=["?&", "?"])
def test_the_page_takes_the_answer_either_way(jupyter, query):
    """ItsYou.online appends ``&code=…`` to the registered ``…/callback?``; a URI without the
    ``?`` gets ``?code=…``: the page reads both."""
    state, code = f"state-Either-{len(query)}", f"code-Either-{len(query)}"
    pending(jupyter, state)
    answer_file = handoff.login_file(state, handoff.ANSWER, jupyter["runtime"])
    handoff.write_private(handoff.login_file(state, handoff.OUTCOME, jupyter["runtime"]), {"succeeded": True})
    page = requests.get(
        f"{jupyter['url']}iyo/callback" + query.format(code=code, state=state),
        headers={"Authorization": f"token {TOKEN}"},
        timeout=30,
        allow_redirects=False,
    )
    assert page.status_code == 200 and "Signed in" in page.text
    assert handoff.read(answer_file) == {"code": code, "error": "", "state": state}
    handoff.remove(answer_file, handoff.login_file(state, handoff.PENDING, jupyter["runtime"]))


@pytest.mark.parametrize("on_hub", [False, True], ids=["jupyter", "jupyterhub"])
def test_the_code_flow_returns_through_the_server(ip, jupyter, code_standins, monkeypatch, on_hub):
    """As on JupyterHub: the kernel's parent is the server; the login link's redirect URI is the
    server's callback page, which the user's (authenticated) browser reaches. The hint to register
    is that page alone, never a prefix that covers other users' servers."""
    import webbrowser

    if on_hub:
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", BASE)
        monkeypatch.setenv("JUPYTERHUB_BASE_URL", "/")

    for name, value in code_standins.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("IYO_CLIENT_ID", ORG)
    monkeypatch.setenv("IYO_CLIENT_SECRET", ORG_SECRET)
    monkeypatch.setenv("IYO_SERVER_ID", jupyter["id"])
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter["runtime"]))
    pages, threads = [], []

    class SignedInBrowser(webbrowser.BaseBrowser):
        """Alice's browser: logs in at the stand-in, then follows the redirect with her Jupyter login."""

        def open(self, url, new=0, autoraise=True):
            def run():
                user = DemoUser("alice", ALICE["password"], follow=False)
                user.visit(url)
                pages.append((user.landed_on, callback_page(user.landed_on)))

            threads.append(threading.Thread(target=run, daemon=True))
            threads[-1].start()
            return True

    def callback_page(address):
        return requests.get(address, headers={"Authorization": f"token {TOKEN}"}, timeout=30).text

    left_before = set(Path(jupyter["runtime"]).glob("iyo-login-*"))
    webbrowser.register("iyo-test-signed-in", None, SignedInBrowser("iyo-test-signed-in"))
    ip.run_line_magic("config", "IyoMagics.browser = 'iyo-test-signed-in'")
    with capture_output() as captured:
        ip.run_line_magic("iyo_token", f"-f code --scope user:memberof:{ORG}")
    assert ip.user_ns["iyo_jwt"].username == "alice"
    threads[0].join(20)  # the page answers once the kernel has said how the login ended
    landed_on, page = pages[0]
    assert landed_on.startswith(f"{jupyter['url']}iyo/callback?&code=")  # ItsYou.online's way of appending
    assert "Signed in" in page and "code=" not in page
    assert "The browser comes back through this Jupyter server." in captured.stdout
    assert f"register {jupyter['url']}iyo/callback? as its callback URL" in captured.stdout
    assert "/user/ as" not in captured.stdout
    assert ("iyo_magic.hub.configure_class" in captured.stdout) is on_hub  # what a class uses instead
    assert set(Path(jupyter["runtime"]).glob("iyo-login-*")) == left_before  # nothing of this login stays


@pytest.mark.parametrize("configured_by", ["environment", "%config"])
def test_a_configured_redirect_uri_wins_even_when_it_equals_the_default(jupyter, monkeypatch, configured_by):
    """``iyo-magic demo`` exports the demo key's registered URL, which is also the built-in default:
    under a Jupyter server with the extension it must still win over the server's callback."""
    from iyo_magic import settings
    from iyo_magic.notebook.login_path import default_redirect_uri

    monkeypatch.setenv("IYO_SERVER_ID", jupyter["id"])
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter["runtime"]))
    assert default_redirect_uri(settings.resolve({})) == f"{jupyter['url']}iyo/callback?"  # nothing configured
    configured: dict = {}
    if configured_by == "environment":
        monkeypatch.setenv("IYO_REDIRECT_URI", settings.DEFAULT_REDIRECT_URI)
    else:
        configured["redirect_uri"] = settings.DEFAULT_REDIRECT_URI
    assert default_redirect_uri(settings.resolve(configured)) == settings.DEFAULT_REDIRECT_URI


def marker_of(server) -> dict:
    return handoff.read(handoff.server_file(server["id"], server["runtime"])) or {}


def as_a_kernel_sees_it(server, monkeypatch) -> tuple[str, str]:
    """The redirect URI a kernel of ``server`` uses when nothing is configured, and the hint it prints."""
    from iyo_magic import settings
    from iyo_magic.browser.server_return import registration_hint
    from iyo_magic.notebook.login_path import default_redirect_uri

    monkeypatch.setenv("IYO_SERVER_ID", server["id"])
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(server["runtime"]))
    uri = default_redirect_uri(settings.resolve({}))
    return uri, registration_hint(uri)


def owner_request(server, path="api/status", method="GET", **headers):
    headers = {"Authorization": f"token {TOKEN}", **headers}
    return requests.request(method, server["url"] + path, headers=headers, timeout=10, allow_redirects=False)


def until(condition, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


FORGED = {"X-Forwarded-Host": "hub.example.org.evil.invalid", "X-Forwarded-Proto": "http"}


def test_no_request_but_the_owners_own_sets_the_public_address(tmp_path, monkeypatch):
    """Forged forwarded headers, anonymous requests (OPTIONS, the /api/notebooks redirect, no
    token), the owner's redirects and errors: none changes the redirect URI or the hint."""
    with running_jupyter(tmp_path) as server:
        port = server["url"].split(":")[2].split("/")[0]
        local = {"Host": f"localhost:{port}"}  # a name the server answers to, unlike a forged one
        # the server notes the owner's first request after answering it: wait for the marker
        assert until(lambda: "(the address your browser uses" in as_a_kernel_sees_it(server, monkeypatch)[1])
        uri, hint = as_a_kernel_sees_it(server, monkeypatch)
        assert uri == f"{server['url']}iyo/callback?" and "(the address your browser uses for this server)" in hint
        answers = [
            owner_request(server, **FORGED),  # forwarded headers from no trusted proxy
            requests.options(server["url"] + "api/kernels", headers={**FORGED, **local}, timeout=10),
            requests.get(server["url"] + "api/notebooks", headers=local, timeout=10, allow_redirects=False),
            requests.get(server["url"] + "api/", headers=local, timeout=10),  # answers 200 without a token
            requests.get(server["url"] + "api/status", headers=local, timeout=10),
            owner_request(server, "api/notebooks", **local),  # a redirect, even the owner's
            owner_request(server, "api/contents/no-such-file", **local),  # an error
            owner_request(server, "api/kernels", method="OPTIONS", **local),
        ]
        assert [a.status_code for a in answers] == [200, 200, 302, 200, 403, 302, 404, 200]
        time.sleep(0.5)  # each is noted (or not) just after its answer
        assert as_a_kernel_sees_it(server, monkeypatch) == (uri, hint)
        owner_request(server, **local)  # the owner's browser on another name of the server: that counts
        assert until(lambda: marker_of(server)["origin"] == f"http://localhost:{port}")
        assert as_a_kernel_sees_it(server, monkeypatch)[0] == f"http://localhost:{port}{BASE}iyo/callback?"
        # Behind a proxy that ends TLS: the owner's page, on the same host, is https.
        requests.get(server["url"] + "api/", headers={**local, "Referer": f"https://localhost:{port}/"}, timeout=10)
        owner_request(server, **local, Referer=f"https://elsewhere.invalid:{port}{BASE}lab")  # another host's page
        time.sleep(0.5)
        assert marker_of(server)["origin"] == f"http://localhost:{port}"
        owner_request(server, **local, Referer=f"https://localhost:{port}{BASE}lab")
        assert until(lambda: marker_of(server)["origin"] == f"https://localhost:{port}")


def test_behind_a_trusted_proxy_only_its_own_bare_host_counts(tmp_path, monkeypatch):
    with running_jupyter(tmp_path, IYO_TRUSTED_PROXIES="10.0.0.9, 127.0.0.1") as server:
        owner_request(server, **{"X-Forwarded-Host": "evil.invalid, hub.test:8443", "X-Forwarded-Proto": "http, https"})
        assert until(lambda: marker_of(server)["origin"] == "https://hub.test:8443")  # the last hop's
        requests.get(server["url"] + "api/", headers={"X-Forwarded-Host": "evil.invalid"}, timeout=10)  # anonymous
        refused = ["hub.test@evil.invalid", "hub.test/evil.invalid", "hub test", "", "hub.test:99999", "hub.test:0"]
        for forwarded_host in [*refused, "[::1x]:8443", "hub.test:8443:1"]:
            owner_request(server, **{"X-Forwarded-Host": forwarded_host, "X-Forwarded-Proto": "https"})
        owner_request(server, **{"X-Forwarded-Host": "hub.test:8443", "X-Forwarded-Proto": "javascript"})
        time.sleep(0.5)
        uri, hint = as_a_kernel_sees_it(server, monkeypatch)
        assert uri == f"https://hub.test:8443{BASE}iyo/callback?" and "your browser uses" in hint
        owner_request(server, **{"X-Forwarded-Host": "[::1]:8443", "X-Forwarded-Proto": "https"})
        assert until(lambda: marker_of(server)["origin"] == "https://[::1]:8443")


def test_a_configured_public_address_wins_and_the_hint_says_so(tmp_path, monkeypatch):
    with running_jupyter(tmp_path, IYO_PUBLIC_URL="https://Notebooks.example.org:8443/jupyter/") as server:
        owner_request(server, Host="localhost")
        time.sleep(0.5)
        uri, hint = as_a_kernel_sees_it(server, monkeypatch)
        assert uri == f"https://notebooks.example.org:8443{BASE}iyo/callback?"
        assert "(the server's configured public address)" in hint


def test_on_jupyterhub_only_the_user_who_owns_the_server_counts(tmp_path, monkeypatch):
    """Under JupyterHub's name for the owner, a request of any other user (the test's token user,
    here) is not the owner's: the address stays the server's own, and the hint says so."""
    with running_jupyter(tmp_path, JUPYTERHUB_USER="u1") as server:
        owner_request(server, Host="localhost")
        time.sleep(0.5)
        assert marker_of(server)["origin"] == ""
        uri, hint = as_a_kernel_sees_it(server, monkeypatch)
        assert uri == f"{server['url']}iyo/callback?" and "(the server's own address" in hint


def test_the_page_and_the_proxy_answer_their_own_403_when_unauthenticated_access_is_off(tmp_path):
    """``ServerApp.allow_unauthenticated_access=False`` (the hardening setting) would otherwise
    send the browser to the login page with the code and state in ``?next=``."""
    options = ("--ServerApp.allow_unauthenticated_access=False",)
    with running_jupyter(tmp_path, *options, IYO_STANDIN_URL="http://127.0.0.1:9") as server:
        pending(server, "state-Hardened-6")
        query = {"code": "code-Hardened-6", "state": "state-Hardened-6"}
        for path in ("iyo/callback", "iyo/standin/v1/oauth/authorize"):
            answer = requests.get(server["url"] + path, params=query, timeout=10, allow_redirects=False)
            assert answer.status_code == 403 and "Location" not in answer.headers, path
            assert "code-Hardened-6" not in answer.text and "state-Hardened-6" not in answer.text
        assert "not logged in" in requests.get(server["url"] + "iyo/callback", params=query, timeout=10).text
        assert not handoff.login_file("state-Hardened-6", handoff.ANSWER, server["runtime"]).exists()
        assert callback(server, state="state-Unknown-6", code="c").status_code == 400  # logged in: the page itself


def in_a_kernel_of(server, setup: str, expression: str) -> str:
    """Start a kernel through ``server``'s API (so it inherits the server's environment), run
    ``setup`` in it and return ``expression``'s value as text. The value comes back in the execute
    reply on the shell channel, so nothing depends on IOPub or the heartbeat being ready (both
    can lag under the lowest jupyter_client)."""
    from jupyter_client import BlockingKernelClient

    kernel = owner_request(server, "api/kernels", method="POST").json()["id"]
    client = BlockingKernelClient(connection_file=str(server["runtime"] / f"kernel-{kernel}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        asked = client.execute(setup, silent=True, user_expressions={"value": f"str({expression})"})
        deadline = time.monotonic() + 60
        reply = client.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != asked:  # another request's reply: not ours
            assert time.monotonic() < deadline, "the kernel did not answer within 60 s"
            reply = client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.1))
    finally:
        client.stop_channels()
        owner_request(server, f"api/kernels/{kernel}", method="DELETE")
    assert reply["content"]["status"] == "ok", reply["content"]
    value = reply["content"]["user_expressions"]["value"]
    assert value["status"] == "ok", value
    return ast.literal_eval(value["data"]["text/plain"])


#: Under a shell that is PID 1 and passes SIGTERM on: the command is PID 2 in every such namespace
#: (a kernel whose parent were PID 1 would take itself for an orphan and stop).
UNDER_INIT = ("sh", "-c", 'trap "kill \\$child; wait \\$child" TERM; "$@" & child=$!; wait $child', "sh")


def own_pid_namespace() -> tuple:
    """What starts a command in a PID namespace of its own (as in a container), with the same PID
    in each, where this machine allows it; else nothing (the PIDs then differ)."""
    for command in (("unshare", "--pid", "--fork"), ("unshare", "--user", "--map-root-user", "--pid", "--fork")):
        try:
            if subprocess.run([*command, "true"], capture_output=True, timeout=10).returncode == 0:
                return (*command, "--kill-child=SIGTERM", *UNDER_INIT)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return ()


def test_two_servers_sharing_a_runtime_directory_each_give_their_kernels_their_own_callback(tmp_path):
    """Named servers, or containers with PID namespaces of their own, sharing one home: each
    server's kernels find its own marker, by the id they inherit, not by a PID (here both servers
    are PID 1 where the machine allows it)."""
    runtime = tmp_path / "runtime"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    asks = ("from iyo_magic.browser.server_return import server_callback", "server_callback()")
    prefix = own_pid_namespace()
    with contextlib.ExitStack() as servers:
        a = servers.enter_context(running_jupyter(tmp_path / "a", runtime=runtime, base="/user/a/", prefix=prefix))
        b = servers.enter_context(running_jupyter(tmp_path / "b", runtime=runtime, base="/user/b/", prefix=prefix))
        assert a["id"] != b["id"]
        assert in_a_kernel_of(a, *asks) == f"{a['url']}iyo/callback?"
        assert in_a_kernel_of(b, *asks) == f"{b['url']}iyo/callback?"


def test_a_deleted_or_replaced_marker_is_written_again(jupyter):
    marker = handoff.server_file(jupyter["id"], jupyter["runtime"])
    written = handoff.read(marker)
    marker.unlink()
    assert until(marker.exists, seconds=3 * 3)  # nobody asked anything of the server meanwhile
    assert handoff.read(marker) == written
    handoff.write_private(marker, {**written, "base_url": "/user/mallory/"})  # stale, or someone else's
    owner_request(jupyter)  # a request of the owner's checks it at once
    assert until(lambda: handoff.read(marker) == written, seconds=2)


@pytest.fixture()
def recording_standin():
    """A server in the stand-in's place that records what reaches it and answers with cookies:
    its own session's, and two it has no business setting for the Jupyter server's origin."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):  # the name http.server calls
            seen.append({"path": self.path, "headers": dict(self.headers)})
            self.send_response(200)
            self.send_header("Set-Cookie", "iyo_session=s3ss10n; Path=/; HttpOnly")
            self.send_header("Set-Cookie", f"username-127-0-0-1={TOKEN}; Path=/")
            self.send_header("Set-Cookie", "_xsrf=planted; Path=/user/alice/")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"stand-in page")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_the_proxy_keeps_the_jupyter_token_and_passes_back_only_the_standins_cookie(tmp_path, recording_standin):
    standin, seen = recording_standin
    with running_jupyter(tmp_path, IYO_STANDIN_URL=standin) as server:
        page = requests.get(f"{server['url']}iyo/standin/login", params={"token": TOKEN, "a": "1", "b": ""}, timeout=10)
        assert page.status_code == 200 and page.text == "stand-in page"
        assert seen[-1]["path"] == "/user/alice/iyo/standin/login?a=1&b="  # no token
        assert TOKEN not in str(seen[-1]["headers"])
        from_standin = [c for c in page.raw.headers.getlist("Set-Cookie") if "s3ss10n" in c or "planted" in c]
        assert from_standin == ["iyo_session=s3ss10n; HttpOnly; Path=/user/alice/iyo/standin; SameSite=Lax"]
        assert not [c for c in page.raw.headers.getlist("Set-Cookie") if TOKEN in c]


def test_decline_on_binder_returns_to_the_callback_and_the_cell_says_you_declined(ip, tmp_path, monkeypatch):
    """Binder's way (binder/start): the login pages through the server's stand-in proxy, the
    stand-in accepting the server's callback page; the visitor declines."""
    import webbrowser

    from iyo_magic.server import StandIns

    with contextlib.ExitStack() as running:
        standins = running.enter_context(StandIns(prefix=f"{BASE}iyo/standin", jupyter_callback=f"{BASE}iyo/callback"))
        standin_root = standins.iyo_url.removesuffix(f"{BASE}iyo/standin")  # as binder/start derives it
        server = running.enter_context(running_jupyter(tmp_path, IYO_STANDIN_URL=standin_root))
        origin = server["url"][: -len(BASE)]
        for name, value in standins.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("IYO_CLIENT_ID", ORG)
        monkeypatch.setenv("IYO_CLIENT_SECRET", ORG_SECRET)
        monkeypatch.setenv("IYO_LOGIN_BASE_URL", f"{BASE}iyo/standin")  # as binder/start sets it
        monkeypatch.delenv("IYO_REDIRECT_URI", raising=False)
        monkeypatch.setenv("IYO_SERVER_ID", server["id"])
        monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(server["runtime"]))
        pages, threads = [], []

        class DecliningVisitor(webbrowser.BaseBrowser):
            """A Binder visitor: the link is relative to the notebook page; they decline."""

            def open(self, url, new=0, autoraise=True):
                def run():
                    user = DemoUser("alice", ALICE["password"], decision="decline", follow=False)
                    user.visit(f"{origin}{url}&token={TOKEN}")  # Jupyter's login, as a cookie after that
                    answer = requests.get(user.landed_on, headers={"Authorization": f"token {TOKEN}"}, timeout=30)
                    pages.append((user.landed_on, answer.status_code, answer.text))

                threads.append(threading.Thread(target=run, daemon=True))
                threads[-1].start()
                return True

        webbrowser.register("iyo-test-declines", None, DecliningVisitor("iyo-test-declines"))
        ip.run_line_magic("config", "IyoMagics.browser = 'iyo-test-declines'")
        with pytest.raises(UsageError) as failed:
            ip.run_line_magic("iyo_token", f"-f code --scope user:memberof:{ORG} --wait 30")
        threads[0].join(20)
    landed_on, status, page = pages[0]
    assert "Signed in" not in page
    assert landed_on.startswith(f"{server['url']}iyo/callback?&error=access_denied&state=") and status == 200
    assert "you declined" in str(failed.value)  # at once, not after --wait
    assert "iyo_jwt" not in ip.user_ns
