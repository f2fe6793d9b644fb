"""`iyo_magic.tokens`: scopes as the servers write them, and an absolute expiry."""

from __future__ import annotations

import time

import pytest

from iyo_magic.tokens import AccessToken, split_scopes

ORG = "cockpit-demo"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("user:admin,", ("user:admin",)),
        ("user:memberof:a,grant:x", ("user:memberof:a", "grant:x")),
        ("user:admin", ("user:admin",)),
        (" a , b ,", ("a", "b")),
        ("", ()),
        (None, ()),
        (["a,b", "c d"], ("a", "b", "c", "d")),  # as typed: repeated options, commas, spaces
    ],
)
def test_scopes_tolerate_the_servers_formats(text, expected):
    assert split_scopes(text) == expected


def test_access_token_expiry_is_absolute_from_receipt():
    received = time.time() - 100
    token = AccessToken.from_response(
        {"access_token": "abc", "scope": "organization:owner,", "expires_in": 1000, "info": {"username": ""}},
        client_id=ORG,
        received_at=received,
    )
    assert abs(token.expires_at.timestamp() - (received + 1000)) < 0.01
    assert 890 < token.expires_in < 901 and token.identity == ORG
