"""The kernel's side of a JupyterHub class that logs in with ItsYou.online (``hub_login=True``):
the hub hands the user's server that user's refreshable JWT in ``$IYO_HUB_JWT``, and
``%iyo_token`` with no secret anywhere makes it this kernel's login in one request. Against the
stand-in over real HTTP; the real hub is tests/test_hub_class.py."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from iyo_magic.oauth import protocol
from iyo_magic.oauth.transport import Transport

from .conftest import ALICE_APP, ALICE_SECRET

CLASS_SCOPE = "user:memberof:cockpit-demo"


@pytest.fixture()
def handed(alice_env, monkeypatch):
    """alice's server as the hub starts it: her refreshable JWT, the class's settings, no secret."""
    options = protocol.JwtOptions(scopes=(CLASS_SCOPE,), refreshable=True)
    jwt = protocol.jwt_by_client_credentials(Transport(), alice_env.iyo_url, ALICE_APP, ALICE_SECRET, options)
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    monkeypatch.setenv("IYO_HUB_JWT", jwt.reveal())
    return jwt


def run(ip, line: str = ""):
    return ip.run_line_magic("iyo_token", line)


def test_no_secret_anywhere_gives_the_users_own_jwt_in_one_request(ip, handed, standins, capsys):
    before = sum(standins.iyo.hits.values())
    run(ip)
    out = capsys.readouterr().out
    assert "iyo: alice" in out and "from the hub's ItsYou.online login" in out
    jwt = ip.user_ns["iyo_jwt"]
    assert jwt.username == "alice" and jwt.refreshable and CLASS_SCOPE in jwt.scope
    assert jwt.reveal() != handed.reveal()  # refreshed: this kernel's own
    assert "iyo_access_token" not in ip.user_ns  # the hub keeps the access token
    assert sum(standins.iyo.hits.values()) == before + 1 and standins.iyo.hits["refresh"] >= 1
    assert handed.reveal() not in out


def test_status_says_where_the_login_came_from(ip, handed, capsys):
    run(ip)
    capsys.readouterr()
    run(ip, "--status")
    assert "login from the hub's ItsYou.online login" in capsys.readouterr().out


def test_an_audience_is_derived_from_the_handed_jwt(ip, handed, capsys):
    run(ip, "--aud cockpit-demo")
    assert ip.user_ns["iyo_jwt"].audience == ("cockpit-demo",)


def test_a_jwt_for_another_client_is_not_used(ip, handed, monkeypatch):
    monkeypatch.setenv("IYO_CLIENT_ID", "another-org")
    with pytest.raises(UsageError, match="no client secret"):
        run(ip)


def test_a_secret_in_the_kernel_wins_over_the_hub(ip, handed, monkeypatch, capsys):
    monkeypatch.setenv("IYO_CLIENT_SECRET", ALICE_SECRET)
    run(ip)
    assert "from the hub" not in capsys.readouterr().out
    assert "iyo_access_token" in ip.user_ns


def test_no_jwt_is_one_line(ip, handed):
    with pytest.raises(UsageError, match="gives a JWT, not an access token"):
        run(ip, "--no-jwt")


def test_garbage_in_the_variable_is_one_line(ip, handed, monkeypatch):
    monkeypatch.setenv("IYO_HUB_JWT", "not-a-jwt")
    with pytest.raises(UsageError, match=r"\$IYO_HUB_JWT holds no JWT"):
        run(ip)


def test_the_form_with_no_secret_uses_the_hub_login(ip, handed):
    from iyo_magic import LoginForm

    form = LoginForm()
    form.button.click()
    form.wait()
    assert ip.user_ns["iyo_jwt"].username == "alice"
    assert "from the hub&#x27;s ItsYou.online login" in form.message.value or "from the hub's" in form.message.value
    assert handed.reveal() not in form.message.value


def test_a_failed_hub_login_leaves_no_frame_holding_the_jwt(handed):
    """What %xmode Verbose prints of a failed login: the frames' locals show the handed JWT masked."""
    import traceback

    from iyo_magic import IyoError, LoginRequest, login
    from iyo_magic.notebook.login_path import handed_jwt

    request = LoginRequest(client_id=ALICE_APP, base_url="http://127.0.0.1:9")  # nothing answers there
    with pytest.raises(IyoError) as failed:
        login(request, "", handed=handed_jwt(request))
    shown = " ".join(repr(v) for frame, _ in traceback.walk_tb(failed.tb) for v in frame.f_locals.values())
    assert handed.reveal() not in shown and "JWT (masked)" in shown
