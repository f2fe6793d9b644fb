"""`iyo_magic.oauth.request`: what a login asks for, as given."""

from __future__ import annotations

import copy
import pickle

import pytest

from iyo_magic import ConfigError, LoginRequest


def test_a_login_request_takes_its_scopes_as_a_string_or_a_list():
    assert LoginRequest(client_id="x", scopes="user:memberof:a").scopes == ("user:memberof:a",)
    assert LoginRequest(client_id="x", audiences=["a", "b,c"]).audiences == ("a", "b", "c")


def test_a_login_request_is_a_value_equal_requests_are_one_call():
    one = LoginRequest("x", scopes="a,b", audiences="o")
    two = LoginRequest(client_id="x", scopes=["a", "b"], audiences=("o",))
    assert one == two and hash(one) == hash(two) and len({one, two}) == 1
    assert one != LoginRequest("x", scopes="a") and one != "x"


def test_a_login_request_cannot_be_changed_only_copied_with_a_change_checked_again():
    request = LoginRequest("x", public_key=None)
    with pytest.raises(AttributeError):
        request.flow = "code"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del request.client_id
    changed = request.replace(flow="code", scopes="a b")
    assert (changed.flow, changed.scopes, changed.public_key) == ("authorization_code", ("a", "b"), None)
    assert request.flow == "client_credentials"
    with pytest.raises(ConfigError, match="validity"):
        request.replace(validity=0)
    assert copy.deepcopy(request) == request == pickle.loads(pickle.dumps(request))


def test_a_login_request_shows_every_field_by_name():
    shown = repr(LoginRequest("x", cockpit_url="http://127.0.0.1:5000/api", validity=60))
    assert shown.startswith("LoginRequest(client_id='x', base_url='https://itsyou.online', flow='client_credentials',")
    assert "validity=60" in shown and "cockpit_url='http://127.0.0.1:5000/api'" in shown
    assert shown.endswith("ca_bundle=None, login_base_url='')")
