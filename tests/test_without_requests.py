"""The seams below ``requests``: the URL policy, the login request and the JWT keeper work in a
process where ``requests`` cannot be imported, and importing them does not import it.

Each test runs a child process whose first line makes ``import requests`` fail (as
``sys.modules[name] = None`` does), so an import of requests anywhere below the code under test
is an ImportError there, not a silent cost."""

from __future__ import annotations

import subprocess
import sys
import textwrap

NO_REQUESTS = "import sys\nsys.modules['requests'] = None\nsys.modules['urllib3'] = None\n"


def without_requests(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", NO_REQUESTS + textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_the_url_policy_and_its_users_need_no_requests():
    out = without_requests(
        """
        from iyo_magic.oauth.url_policy import check_url, is_loopback_host, origin
        from iyo_magic.errors import ConfigError
        import iyo_magic.browser.listener, iyo_magic.server.demo_user, iyo_magic.jupyter.extension

        print(check_url("https://itsyou.online/"), check_url("http://[::1]:8080"))
        print(is_loopback_host("127.0.0.2"), is_loopback_host("LOCALHOST"), is_loopback_host("example.com"))
        print(origin("https://Example.com/a"), origin("http://127.0.0.1:81/b"))
        for url in ("http://example.com", "https://user:pw@example.com", "ftp://example.com"):
            try:
                check_url(url, "base URL")
            except ConfigError as error:
                print("refused:", error)
        """
    )
    lines = out.splitlines()
    assert lines[0] == "https://itsyou.online http://[::1]:8080"
    assert lines[1] == "True True False"
    assert lines[2] == "('https', 'example.com', 443) ('http', '127.0.0.1', 81)"
    assert [line.split(":")[0] for line in lines[3:]] == ["refused"] * 3
    assert "plain http to a non-loopback host" in lines[3] and "pw" not in lines[4]


def test_the_jwt_keeper_needs_no_requests():
    """The keeper alone, a plain function as its renewal and a clock the test sets: the stale
    rule, one renewal across threads, and the 401 bookkeeping."""
    out = without_requests(
        """
        import base64, json, threading, time
        from iyo_magic.auth.keeper import JwtKeeper, authorization
        from iyo_magic.tokens import JWT

        def unsigned(issued, lifetime, n):
            part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
            claims = {"exp": issued + lifetime, "globalid": "org", "azp": "org", "n": n}
            return JWT(part({"alg": "ES384"}) + "." + part(claims) + ".c2ln", public_key=None, obtained_at=issued)

        now = [1000.0]
        issued = []

        def renew(old):
            time.sleep(0.05)  # long enough for every thread to find the JWT stale
            issued.append(unsigned(now[0], 100, len(issued) + 1))
            return issued[-1]

        renewed = []
        keeper = JwtKeeper(unsigned(1000, 100, 0), renew, on_renew=renewed.append, clock=lambda: now[0])
        first = keeper.jwt
        now[0] = 1049  # leeway min(60 s, half of 100 s): not yet stale
        print("fresh", keeper.current() is first, keeper.renewals)
        now[0] = 1051
        barrier = threading.Barrier(8)
        got = []

        def worker():
            barrier.wait()
            got.append(keeper.current())

        pool = [threading.Thread(target=worker) for _ in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(30)
        print("stale", keeper.renewals, len(got), all(jwt is keeper.jwt for jwt in got), renewed == issued)
        second = keeper.jwt
        print("header", authorization(second) == "bearer " + second.reveal())
        print("elsewhere", keeper.after_401(second, "https://cockpit.example/a", "https://other.example/b"))
        print("redirected", keeper.after_401(second, "https://cockpit.example/a", "https://cockpit.example/b"))
        third = keeper.after_401(second, "https://cockpit.example/a", "https://cockpit.example/a")
        print("same URL", third is keeper.jwt and third is not second, keeper.renewals)
        again = keeper.after_401(third, "https://cockpit.example/a", "https://cockpit.example/a")
        print("again", again, keeper.renewals)
        print("forced", keeper.renew() is keeper.jwt, keeper.renewals, sys.modules["requests"])
        """
    )
    assert out.splitlines() == [
        "fresh True 0",
        "stale 1 8 True True",
        "header True",
        "elsewhere None",
        "redirected None",
        "same URL True 2",
        "again None 2",
        "forced True 3 None",
    ]


def test_a_login_request_and_its_public_key_need_no_requests(tmp_path):
    pem = tmp_path / "key.pem"
    pem.write_text("-----BEGIN PUBLIC KEY-----\nMHY...\n-----END PUBLIC KEY-----\n")
    (tmp_path / "not-a-key.txt").write_text("hello")
    out = without_requests(
        f"""
        import iyo_magic
        from iyo_magic import ConfigError, LoginRequest
        from iyo_magic.oauth.request import load_public_key

        one = LoginRequest("org", base_url="http://127.0.0.1:8080/", flow="cc", scopes="a,b", audiences=["x"])
        two = LoginRequest("org", base_url="http://127.0.0.1:8080", scopes=("a", "b"), audiences="x")
        print(one == two, hash(one) == hash(two), one.flow, one.base_url, one.scopes, one.audiences)
        print(LoginRequest is iyo_magic.oauth.request.LoginRequest, "iyo_magic.login_flow" in sys.modules)
        for options in (dict(base_url="http://example.com"), dict(flow="password"), dict(validity=0)):
            try:
                LoginRequest("org", **options)
            except ConfigError as error:
                print("refused:", error)
        print(load_public_key({str(pem)!r}).splitlines()[0], load_public_key("none"), load_public_key(""))
        for value in ({str(tmp_path / "not-a-key.txt")!r}, {str(tmp_path / "absent.pem")!r}):
            try:
                load_public_key(value)
            except ConfigError as error:
                print("refused:", error)
        """
    )
    lines = out.splitlines()
    assert lines[0] == "True True client_credentials http://127.0.0.1:8080 ('a', 'b') ('x',)"
    assert lines[1] == "True False"
    assert "plain http to a non-loopback host" in lines[2] and "unknown flow 'password'" in lines[3]
    assert "validity" in lines[4]
    assert lines[5] == "-----BEGIN PUBLIC KEY----- None None"
    assert lines[6].endswith("holds no PEM key") and lines[7].endswith("cannot be read")


def test_the_magic_loads_without_requests():
    out = without_requests(
        """
        sys.modules["ipywidgets"] = None
        from IPython.core.interactiveshell import InteractiveShell
        ip = InteractiveShell.instance()
        ip.run_line_magic("load_ext", "iyo_magic")
        print(ip.find_line_magic("iyo_token") is not None)
        """
    )
    assert out.strip() == "True"


def test_the_login_still_takes_the_same_request():
    """Where requests is there: one LoginRequest class, whichever way it is imported."""
    import iyo_magic
    from iyo_magic import login_flow
    from iyo_magic.oauth import request as login_request

    assert iyo_magic.LoginRequest is login_request.LoginRequest is login_flow.LoginRequest
    assert "LoginRequest" in iyo_magic.__all__
