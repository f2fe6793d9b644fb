"""`Renewal` on its own: which way it takes to a new JWT, in which order, against the stand-ins."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from iyo_magic import LoginRequest, RefreshError, login
from iyo_magic.errors import OAuthError
from iyo_magic.oauth.protocol import JwtOptions
from iyo_magic.oauth.renewal import Renewal
from iyo_magic.oauth.transport import Transport
from iyo_magic.tokens import AccessToken

from .conftest import ORG, ORG_SECRET


@pytest.fixture()
def logged_in(standins):
    request = LoginRequest(client_id=ORG, base_url=standins.iyo_url, public_key=standins.key.public_pem)
    return login(request, ORG_SECRET)


class Calls:
    """The flow's steps, counted; each answers with the login's own tokens or raises."""

    def __init__(self, result, fail=None):
        self.result, self.fail, self.log = result, fail, []

    def get_access_token(self):
        self.log.append("access token")
        return self.result.access_token

    def get_jwt(self, access_token):
        self.log.append("jwt from access token" if access_token is not None else "jwt from credentials")
        if self.fail:
            raise self.fail
        return self.result.jwt


def renewal(standins, result, calls, **changes):
    options = {
        "access_token": result.access_token,
        "get_access_token": calls.get_access_token,
        "get_jwt": calls.get_jwt,
        **changes,
    }
    return Renewal(Transport(), standins.iyo_url, JwtOptions(public_key=standins.key.public_pem), **options)


def expiring(token: AccessToken, seconds: float) -> AccessToken:
    at = datetime.fromtimestamp(time.time() + seconds, tz=timezone.utc)
    return AccessToken(token.reveal(), scope=token.scope, expires_at=at, client_id=token.client_id)


def test_a_refreshable_jwt_goes_to_the_refresh_endpoint(standins, logged_in):
    calls = Calls(logged_in)
    before = standins.iyo.hits["refresh"]
    fresh = renewal(standins, logged_in, calls)(logged_in.jwt)
    assert standins.iyo.hits["refresh"] == before + 1 and calls.log == []
    assert fresh.refreshable and fresh.globalid == ORG and fresh is not logged_in.jwt


def test_a_lost_refresh_token_falls_back_to_the_access_token(standins, logged_in, monkeypatch):
    monkeypatch.setattr(standins.iyo.state, "refresh_tokens", {})
    calls = Calls(logged_in)
    assert renewal(standins, logged_in, calls)(logged_in.jwt) is logged_in.jwt
    assert calls.log == ["jwt from access token"]


def test_an_access_token_about_to_expire_means_the_flow_again(standins, logged_in, monkeypatch):
    monkeypatch.setattr(standins.iyo.state, "refresh_tokens", {})
    calls = Calls(logged_in)
    renew = renewal(standins, logged_in, calls, access_token=expiring(logged_in.access_token, 30))
    renew(logged_in.jwt)
    assert calls.log == ["access token", "jwt from access token"]
    assert renew.access_token is logged_in.access_token  # the newest one is kept for next time


def test_a_direct_login_asks_the_credentials_again(standins, logged_in, monkeypatch):
    monkeypatch.setattr(standins.iyo.state, "refresh_tokens", {})
    calls = Calls(logged_in)
    renewal(standins, logged_in, calls, access_token=None, direct=True)(logged_in.jwt)
    assert calls.log == ["jwt from credentials"]


def test_without_the_user_it_says_so(standins, logged_in, monkeypatch):
    monkeypatch.setattr(standins.iyo.state, "refresh_tokens", {})
    calls = Calls(logged_in)
    renew = renewal(standins, logged_in, calls, access_token=None, get_access_token=None)
    with pytest.raises(RefreshError, match="can no longer be renewed without the user"):
        renew(logged_in.jwt)


def test_a_failure_is_one_refresh_error(standins, logged_in, monkeypatch):
    monkeypatch.setattr(standins.iyo.state, "refresh_tokens", {})
    calls = Calls(logged_in, fail=OAuthError("JWT: HTTP 401 'Unauthorized': scope refused"))
    with pytest.raises(RefreshError, match="^could not renew the JWT: JWT: HTTP 401") as info:
        renewal(standins, logged_in, calls, access_token=None, direct=True)(logged_in.jwt)
    assert info.value.__suppress_context__ and ORG_SECRET not in str(info.value)


def test_a_failed_refresh_says_try_again_not_that_it_can_no_longer_be_renewed(standins, logged_in, monkeypatch):
    from werkzeug.wrappers import Response

    calls = Calls(logged_in)
    for changes in ({"get_jwt": None}, {"access_token": None, "get_access_token": None}):
        with monkeypatch.context() as fault, pytest.raises(RefreshError) as failed:
            fault.setattr(standins.iyo, "on_refresh", lambda request: Response("Internal Server Error\n", 503))
            renewal(standins, logged_in, calls, **changes)(logged_in.jwt)
        assert str(failed.value).startswith("could not renew the JWT: ItsYou.online failed (JWT refresh: HTTP 503")
        assert str(failed.value).endswith("; try again") and "no longer" not in str(failed.value)
    # A definite no (401) still says it can no longer be refreshed.
    monkeypatch.setattr(standins.iyo.state, "refresh_tokens", {})
    with pytest.raises(RefreshError, match="^the remembered JWT can no longer be refreshed"):
        renewal(standins, logged_in, calls, get_jwt=None)(logged_in.jwt)
