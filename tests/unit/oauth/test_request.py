"""`iyo_magic.oauth.request`: what a login asks for, as given."""

from __future__ import annotations

from iyo_magic import LoginRequest


def test_a_login_request_takes_its_scopes_as_a_string_or_a_list():
    assert LoginRequest(client_id="x", scopes="user:memberof:a").scopes == ("user:memberof:a",)
    assert LoginRequest(client_id="x", audiences=["a", "b,c"]).audiences == ("a", "b", "c")
