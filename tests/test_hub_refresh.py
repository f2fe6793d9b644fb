"""The hub's renewal of a user's JWT before each spawn (`IyoOAuthenticator.refresh_user`), against
the stand-in over real HTTP: a renewed JWT on success, "log in again" only on ItsYou.online's
definite no, and on its failure the JWT kept while it is still good."""

from __future__ import annotations

import asyncio
import sys

import pytest
from werkzeug.wrappers import Response

from iyo_magic.oauth import protocol
from iyo_magic.oauth.transport import Transport
from iyo_magic.tokens import JWT

from .conftest import ALICE, ALICE_APP, ALICE_SECRET

pytestmark = pytest.mark.skipif(sys.version_info < (3, 10), reason="oauthenticator needs Python 3.10")

CLASS = "cockpit-demo"


class HubUser:
    """What the hub's `User` gives `refresh_user`: a name and the encrypted auth state, decrypted."""

    def __init__(self, state: dict | None) -> None:
        self.name = ALICE["username"]
        self.state = state

    async def get_auth_state(self) -> dict | None:
        return self.state


def refreshable_jwt(standins, lifetime: int | None = None) -> JWT:
    options = protocol.JwtOptions(scopes=(f"user:memberof:{CLASS}",), refreshable=True, validity=lifetime)
    return protocol.jwt_by_client_credentials(Transport(), standins.iyo_url, ALICE_APP, ALICE_SECRET, options)


def refresh(standins, jwt: JWT | None):
    """What the hub's ``refresh_user`` answers for alice, whose auth state holds ``jwt``."""
    from iyo_magic.hub.authenticator import JWT_KEY, IyoOAuthenticator

    authenticator = IyoOAuthenticator(organization=CLASS, iyo_url=standins.iyo_url, client_secret="hub-only")
    state = None if jwt is None else {JWT_KEY: jwt.reveal(), "scope": []}
    return asyncio.run(authenticator.refresh_user(HubUser(state)))


def answering(status: int):
    return lambda request: Response("no\n", status, content_type="text/plain; charset=utf-8")


def test_a_good_login_gets_a_renewed_jwt(standins):
    from iyo_magic.hub.authenticator import JWT_KEY

    jwt = refreshable_jwt(standins)
    renewed = refresh(standins, jwt)
    assert renewed["name"] == ALICE["username"]
    fresh = JWT(renewed["auth_state"][JWT_KEY])
    assert fresh.reveal() != jwt.reveal() and fresh.identity == jwt.identity


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_definite_no_means_log_in_again(standins, monkeypatch, status):
    jwt = refreshable_jwt(standins)
    monkeypatch.setattr(standins.iyo, "on_refresh", answering(status))
    assert refresh(standins, jwt) is False


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_keeps_a_jwt_that_is_still_good(standins, monkeypatch, status):
    monkeypatch.setattr(standins.iyo, "on_refresh", answering(status))
    assert refresh(standins, refreshable_jwt(standins)) is True  # the hub keeps its auth state


def test_a_server_error_with_a_jwt_near_its_end_means_log_in_again(standins, monkeypatch):
    jwt = refreshable_jwt(standins, lifetime=30)  # less than the minute a spawn needs
    monkeypatch.setattr(standins.iyo, "on_refresh", answering(500))
    assert refresh(standins, jwt) is False


def test_no_jwt_in_the_auth_state_means_log_in_again(standins):
    assert refresh(standins, None) is False
