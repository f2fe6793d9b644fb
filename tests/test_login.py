"""Every flow, option and error, through the Python API and through %iyo_token (over real HTTP)."""

from __future__ import annotations

import time

import pytest
from IPython.core.error import UsageError

from iyo_magic import IyoError
from iyo_magic.tokens import JWT, AccessToken

from .conftest import ALICE_APP, ALICE_SECRET, BOB_APP, BOB_SECRET, ORG, ORG_SECRET

FAILS = (IyoError, UsageError)


def hits(standins):
    return dict(standins.iyo.hits)


def delta(before, after):
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before) if after.get(k, 0) != before.get(k, 0)
    }


def test_organization_client_credentials_with_aud(front, standins):
    before = hits(standins)
    got = front.run(ORG, ORG_SECRET, aud=[ORG])
    assert delta(before, hits(standins)) == {"access_token": 1, "jwt": 1}  # the minimum: 2 round trips
    token, jwt = got["access_token"], got["jwt"]
    assert isinstance(token, AccessToken) and isinstance(jwt, JWT)
    assert token.scope == ("organization:owner",)  # the server's trailing comma is tolerated
    assert token.expires_at.tzinfo is not None and 85000 < token.expires_in < 86400
    assert jwt.globalid == ORG and jwt.username == "" and jwt.audience == (ORG,)
    assert jwt.verified and jwt.refreshable and jwt.azp == ORG
    assert jwt.claims["refresh_token"] == "<masked>"


def test_user_api_key_with_memberof_scope(front, standins):
    got = front.run(ALICE_APP, ALICE_SECRET, scopes=[f"user:memberof:{ORG}"])
    assert got["access_token"].username == "alice" and got["access_token"].scope == ("user:admin",)
    assert got["jwt"].username == "alice" and got["jwt"].scope == (f"user:memberof:{ORG}",)


def test_membership_filter_is_visible_in_the_jwt(front):
    jwt = front.run(BOB_APP, BOB_SECRET, scopes=[f"user:memberof:{ORG}"])["jwt"]
    assert jwt.scope == ()  # the server dropped it silently ([""]); the JWT shows none


def test_jwt_only_is_one_round_trip(front, standins):
    before = hits(standins)
    got = front.run(ORG, ORG_SECRET, jwt_only=True, validity=300)
    assert delta(before, hits(standins)) == {"access_token": 1}
    assert got["access_token"] is None and got["jwt"].globalid == ORG
    assert 290 < got["jwt"].lifetime <= 300


def test_no_jwt_gets_access_token_only(front, standins):
    before = hits(standins)
    got = front.run(ORG, ORG_SECRET, no_jwt=True)
    assert delta(before, hits(standins)) == {"access_token": 1}
    assert got["jwt"] is None and got["auth"] is None and got["access_token"].identity == ORG


def test_no_refresh(front):
    assert not front.run(ORG, ORG_SECRET, refresh=False)["jwt"].refreshable


def test_default_key_is_the_published_one_and_a_mismatch_is_refused(front):
    from iyo_magic.settings import PUBLISHED_PUBLIC_KEY

    with pytest.raises(FAILS, match="signature does not match the configured public key. If the base URL"):
        front.run(ORG, ORG_SECRET, public_key=PUBLISHED_PUBLIC_KEY)


def test_no_key_means_not_verified(front):
    jwt = front.run(ORG, ORG_SECRET, public_key=None)["jwt"]
    assert not jwt.verified and jwt.verify_note == "no public key configured"


@pytest.mark.parametrize("client_id,secret", [(ORG, "wrong"), ("nobody", ORG_SECRET)])
def test_rejected_credentials(front, client_id, secret):
    with pytest.raises(FAILS, match="client id or secret rejected") as info:
        front.run(client_id, secret)
    assert secret not in str(info.value)


def test_refused_scope_names_it(front):
    with pytest.raises(FAILS, match=f"scope user:memberof:{ORG} refused"):
        front.run(ORG, ORG_SECRET, scopes=[f"user:memberof:{ORG}"])


def test_unreachable(front):
    with pytest.raises(FAILS, match=r"cannot reach 127\.0\.0\.1:9; is the server running"):
        front.run(ORG, ORG_SECRET, base_url="http://127.0.0.1:9")


def test_plain_http_refused_off_loopback(front):
    with pytest.raises(FAILS, match="plain http to a non-loopback host"):
        front.run(ORG, ORG_SECRET, base_url="http://iyo.example")


def test_html_page_where_json_expected(front, serve_app):
    from werkzeug.wrappers import Response

    url = serve_app(Response("<!doctype html><html><body>Sign in</body></html>", content_type="text/html"))
    with pytest.raises(FAILS, match="HTML page where JSON was expected"):
        front.run(ORG, ORG_SECRET, base_url=url)


def test_timeout_is_honoured(front, serve_app):
    def slow(environ, start_response):
        time.sleep(2)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    url = serve_app(slow)
    started = time.monotonic()
    with pytest.raises(FAILS, match="no answer from .* within 0.5 s"):
        front.run(ORG, ORG_SECRET, base_url=url, timeout=0.5)
    assert time.monotonic() - started < 1.8


def test_server_error_and_empty_body(front, serve_app):
    from werkzeug.wrappers import Response

    url = serve_app(Response("Internal Server Error\n", 500, content_type="text/plain"))
    with pytest.raises(FAILS, match="HTTP 500 'Internal Server Error': the server failed"):
        front.run(ORG, ORG_SECRET, base_url=url)
    url = serve_app(Response("", 200, content_type="application/json"))
    with pytest.raises(FAILS, match="got an empty body where JSON was expected"):
        front.run(ORG, ORG_SECRET, base_url=url)


def test_secret_travels_in_the_body_not_the_url(standins, serve_app):
    """What a client sends: the secret in a POST form body, never in a URL."""
    from werkzeug.wrappers import Request, Response

    seen = []

    def recorder(environ, start_response):
        request = Request(environ)
        seen.append((request.method, request.full_path, request.get_data(as_text=True)))
        return Response("Bad Request\n", 400)(environ, start_response)

    url = serve_app(recorder)
    from iyo_magic import LoginRequest, login

    with pytest.raises(IyoError):
        login(LoginRequest(client_id=ORG, base_url=url), ORG_SECRET)
    method, full_path, body = seen[0]
    assert method == "POST" and ORG_SECRET not in full_path and f"client_secret={ORG_SECRET}" in body
