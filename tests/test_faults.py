"""Fault injection and TLS: every fault ends in one short message that says what to do, within
the timeout, and leaves the earlier valid tokens in the namespace untouched."""

from __future__ import annotations

import re
import ssl
import threading
import time

import pytest
import trustme
from IPython.core.error import UsageError
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from iyo_magic import IyoError, LoginRequest, login
from iyo_magic.server.keys import SigningKey

from .conftest import ORG, ORG_SECRET, make_stale


def magic(ip, line):
    return ip.run_line_magic("iyo_token", line)


@pytest.fixture()
def logged_in(ip, iyo_env):
    """A notebook that already holds valid tokens."""
    magic(ip, f"--aud {ORG}")
    return {name: ip.user_ns[name] for name in ("iyo_access_token", "iyo_jwt", "iyo_auth", "iyo_cockpit")}


def fails_cleanly(ip, line, match, within=5.0):
    started = time.monotonic()
    with pytest.raises(UsageError, match=match) as info:
        magic(ip, line)
    assert time.monotonic() - started < within
    message = str(info.value)
    assert "\n" not in message and len(message) < 400 and ORG_SECRET not in message
    return message


def untouched(ip, before):
    for name, value in before.items():
        assert ip.user_ns[name] is value, name


def answer(body, status=200, content_type="application/json"):
    return Response(body, status, content_type=content_type)


@pytest.mark.parametrize(
    "app,match",
    [
        (answer('{"access_token": "abc', content_type="application/json"), "a body that is not valid JSON"),
        (answer(""), "an empty body where JSON was expected"),
        (answer("<html><body>Proxy error</body></html>", 502, "text/html"), "HTTP 502: the server failed"),
        (answer("Service Unavailable\n", 503, "text/plain"), "HTTP 503 'Service Unavailable': the server failed"),
        (answer("<!doctype html><p>login</p>", 200, "text/html"), "HTML page where JSON was expected"),
        (answer('{"token_type": "bearer"}'), "the answer has no access_token"),
        (answer('["a"]'), "the JSON answer is not an object"),
    ],
    ids=["json-cut-short", "empty", "html-502", "503", "html-200", "no-token", "not-object"],
)
def test_misbehaving_server(ip, logged_in, serve_app, app, match):
    fails_cleanly(ip, f"--base-url {serve_app(app)} --fresh", match)
    untouched(ip, logged_in)


def test_a_server_that_echoes_what_it_was_sent(ip, logged_in, serve_app):
    """A misbehaving proxy that repeats the request in its error page or its redirect."""
    from werkzeug.wrappers import Request

    def echo(environ, start_response):
        request = Request(environ)
        sent = f"{request.get_data(as_text=True)} {request.headers.get('Authorization', '')}"
        if request.path.endswith("/jwt"):
            return Response("", 302, headers={"Location": f"/login?seen={sent}"})(environ, start_response)
        return answer(f"Bad Request: {sent}", 400, "text/plain")(environ, start_response)

    url = serve_app(echo)
    message = fails_cleanly(ip, f"--base-url {url} --fresh", "HTTP 400 'Bad Request: grant_type=")
    assert "client_secret=<removed>" in message
    untouched(ip, logged_in)
    from iyo_magic.oauth.protocol import jwt_from_access_token
    from iyo_magic.oauth.transport import Transport

    token = ip.user_ns["iyo_access_token"]
    with pytest.raises(IyoError, match="unexpected redirect to /login.seen=%20token%20<removed>") as info:
        jwt_from_access_token(Transport(), url, token)
    assert token.reveal() not in str(info.value)


def test_connection_refused(ip, logged_in):
    fails_cleanly(ip, "--base-url http://127.0.0.1:9 --fresh", "cannot reach 127.0.0.1:9")
    untouched(ip, logged_in)


def test_dns_failure(ip, logged_in):
    fails_cleanly(ip, "--base-url https://iyo.invalid --fresh", "host name iyo.invalid does not resolve", 12)
    untouched(ip, logged_in)


def test_timeout_honours_the_setting(ip, logged_in, serve_app):
    def slow(environ, start_response):
        time.sleep(3)
        return answer("{}")(environ, start_response)

    ip.run_line_magic("config", "IyoMagics.timeout = 0.5")
    fails_cleanly(ip, f"--base-url {serve_app(slow)} --fresh", r"no answer from .* within 0.5 s", within=2.5)
    untouched(ip, logged_in)


def test_jwt_with_a_bad_signature(ip, logged_in, iyo_env, monkeypatch):
    monkeypatch.setattr(iyo_env.iyo, "key", SigningKey.generate())  # someone else signs
    fails_cleanly(ip, f"--aud {ORG} --fresh", "signature does not match the configured public key")
    untouched(ip, logged_in)


def test_expired_jwt_whose_renewal_is_refused(ip, iyo_env, monkeypatch):
    magic(ip, f"--aud {ORG}")
    before = ip.user_ns["iyo_jwt"]
    monkeypatch.setattr(iyo_env.iyo.state, "refresh_tokens", {})
    monkeypatch.setattr(iyo_env.accounts, "organizations", {})  # the key was revoked meanwhile
    monkeypatch.setattr(iyo_env.iyo.state, "access_tokens", {})
    make_stale(ip.user_ns["iyo_auth"])
    with pytest.raises(IyoError, match="could not renew the JWT: .*client id or secret rejected") as info:
        ip.user_ns["iyo_cockpit"].get("/ays/repository")
    assert "\n" not in str(info.value)
    assert ip.user_ns["iyo_jwt"] is before


@pytest.mark.parametrize("offset", [300, -300], ids=["server-ahead", "server-behind"])
def test_clock_minutes_off(ip, iyo_env, monkeypatch, capsys, offset):
    monkeypatch.setattr(iyo_env.iyo, "clock", lambda: time.time() + offset)
    magic(ip, f"--aud {ORG} --validity 600")
    jwt = ip.user_ns["iyo_jwt"]
    # Uncorrected, it would live 300 or 900 s; minutes of slack for a slow machine, not seconds.
    assert 597 < jwt.lifetime <= 601 and 300 < jwt.expires_in <= 601
    side = "behind" if offset > 0 else "ahead of"
    assert re.search(rf"clock is (4m59s|5m0[01]s) {side} ItsYou.online's; expiry corrected", capsys.readouterr().out)
    auth = ip.user_ns["iyo_auth"]
    if offset > 0:  # the Cockpit keeps real time: a JWT from a server ahead is valid there too
        assert ip.user_ns["iyo_cockpit"].get("/ays/repository").status_code == 200
        assert auth.renewals == 0  # not renewed in a loop


# -- TLS --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tls_iyo(tmp_path_factory):
    """The ItsYou.online stand-in behind HTTPS with a certificate from a private CA."""
    from iyo_magic.server import StandIns

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    servers = StandIns().start()
    server = make_server("127.0.0.1", 0, servers.iyo, threaded=True, ssl_context=context)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield {"url": f"https://127.0.0.1:{server.server_port}", "ca": str(ca_file), "key": servers.key.public_pem}
    server.shutdown()
    servers.stop()


def tls_request(tls_iyo, **extra):
    return LoginRequest(client_id=ORG, base_url=tls_iyo["url"], public_key=tls_iyo["key"], **extra)


def test_tls_verified_by_default(tls_iyo):
    with pytest.raises(IyoError, match="TLS certificate of 127.0.0.1:.* is not trusted.*ca_bundle"):
        login(tls_request(tls_iyo), ORG_SECRET)


def test_tls_ca_bundle_setting(tls_iyo):
    assert login(tls_request(tls_iyo, ca_bundle=tls_iyo["ca"]), ORG_SECRET).jwt.verified


def test_tls_requests_ca_bundle_env(tls_iyo, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_iyo["ca"])
    assert login(tls_request(tls_iyo), ORG_SECRET).jwt.globalid == ORG


def test_tls_ca_bundle_through_the_magic(ip, tls_iyo, monkeypatch):
    monkeypatch.setenv("IYO_CLIENT_ID", ORG)
    monkeypatch.setenv("IYO_CLIENT_SECRET", ORG_SECRET)
    monkeypatch.setenv("IYO_CA_BUNDLE", tls_iyo["ca"])
    ip.run_line_magic("config", "IyoMagics.jwt_public_key = 'none'")
    from iyo_magic.notebook.magic import IyoMagics

    ip.register_magics(IyoMagics)
    magic(ip, f"--base-url {tls_iyo['url']}")
    assert ip.user_ns["iyo_jwt"].globalid == ORG


def test_plain_http_refused_except_loopback():
    with pytest.raises(IyoError, match="plain http to a non-loopback host"):
        LoginRequest(client_id=ORG, base_url="http://10.1.2.3")
    with pytest.raises(IyoError, match="plain http"):
        LoginRequest(client_id=ORG, cockpit_url="http://cockpit.example/api")
    assert LoginRequest(client_id=ORG, base_url="http://localhost:1").base_url == "http://localhost:1"


def test_cockpit_tls_is_verified_too(tls_iyo):
    result = login(tls_request(tls_iyo, ca_bundle=tls_iyo["ca"]), ORG_SECRET)
    from iyo_magic import CockpitError, CockpitSession

    with pytest.raises(CockpitError, match="TLS certificate is not trusted.*SSLError"):
        CockpitSession(tls_iyo["url"], result.auth).get("/v1/oauth/jwt")
