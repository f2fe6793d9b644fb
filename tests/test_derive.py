"""`iyo_jwt.derive(...)`: a JWT to hand to another service, with one request ("Case 3")."""

from __future__ import annotations

import time

import pytest

from iyo_magic import ConfigError, login

from .conftest import ALICE_SECRET, ORG_SECRET
from .test_remember import SCOPE, alice_request


def test_derive_gives_a_shorter_jwt_without_a_refresh_token_in_one_request(standins):
    parent = login(alice_request(standins), ALICE_SECRET).jwt
    standins.iyo.hits.clear()
    child = parent.derive(aud="billing", validity=600)
    assert dict(standins.iyo.hits) == {"jwt": 1}
    assert child.verified and not child.refreshable and "refresh_token" not in child.claims
    assert child.username == "alice" and child.scope == (SCOPE,) and child.audience == ("billing",)
    assert child.expires_at.timestamp() <= time.time() + 601
    assert parent.derive(aud=["a", "b"], refreshable=True).refreshable
    assert "(masked)" in repr(child)


def test_derive_refuses_what_itsyouonline_cannot_do_without_a_request(standins):
    from iyo_magic import LoginRequest

    org = login(
        LoginRequest(client_id="cockpit-demo", base_url=standins.iyo_url, public_key=standins.key.public_pem),
        ORG_SECRET,
    ).jwt
    standins.iyo.hits.clear()
    with pytest.raises(ConfigError, match="^derive: ItsYou.online derives JWTs only from a user's JWT"):
        org.derive(aud="x")
    assert not standins.iyo.hits


def test_derive_in_the_notebook(ip, alice_env):
    ip.run_line_magic("iyo_token", f"--scope {SCOPE}")
    ip.run_cell("handed = iyo_jwt.derive(aud='billing', validity=300)")
    handed = ip.user_ns["handed"]
    assert handed.audience == ("billing",) and not handed.refreshable and handed.expires_in <= 300
