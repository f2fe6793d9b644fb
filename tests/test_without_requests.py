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
        from iyo_magic.url_policy import check_url, is_loopback_host, origin
        from iyo_magic.errors import ConfigError
        import iyo_magic.redirect_listener, iyo_magic.server.demo_user, iyo_magic.jupyter_extension

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
