"""`configure_class` on a bare config: what the hub and the users' servers get, and what not."""

from __future__ import annotations

import sys

import pytest
from traitlets.config import Config

from iyo_magic.hub import configure_class
from iyo_magic.hub.config import SHARED_ORIGIN

SECRET = "class-secret-in-the-hub-only"


def a_hub(**jupyterhub) -> Config:
    c = Config()
    c.JupyterHub.public_url = "https://hub.example.org"
    for name, value in jupyterhub.items():
        c.JupyterHub[name] = value
    return c


@pytest.fixture(autouse=True)
def crypt_key(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_CRYPT_KEY", "00" * 32)


#: oauthenticator (the hub login) needs Python 3.10; the broker does not.
HUB_LOGIN = pytest.param(
    True, marks=pytest.mark.skipif(sys.version_info < (3, 10), reason="oauthenticator needs Python 3.10")
)


@pytest.mark.parametrize("hub_login", [HUB_LOGIN, False])
def test_the_secret_never_reaches_the_users_servers(hub_login):
    c = a_hub(subdomain_host="https://hub.example.org")
    c.Spawner.environment = {"KEEP": "me"}
    callback = configure_class(c, "class-org", "https://itsyou.online", SECRET, hub_login)
    environment = c.Spawner.environment
    assert SECRET not in str(environment) and environment["KEEP"] == "me"
    assert environment["IYO_CLIENT_ID"] == "class-org" and environment["IYO_PUBLIC_URL"] == "https://hub.example.org"
    assert callback.endswith("?")
    if hub_login:
        assert callback == "https://hub.example.org/hub/oauth_callback?"
        assert c.IyoOAuthenticator.oauth_callback_url == callback and c.IyoOAuthenticator.client_secret == SECRET
    else:
        assert callback == "https://hub.example.org/services/iyo-broker/callback?"
        (service,) = c.JupyterHub.services
        assert service["environment"]["IYO_CLIENT_SECRET"] == SECRET  # the broker's alone
        assert environment["IYO_BROKER_URL"] == "http://127.0.0.1:8979/services/iyo-broker/"


def test_the_broker_adds_its_access_to_existing_roles():
    c = a_hub(subdomain_host="https://hub.example.org", load_roles=[{"name": "user", "scopes": ["self", "shares"]}])
    configure_class(c, "class-org", "https://itsyou.online", SECRET, hub_login=False)
    roles = {role["name"]: role["scopes"] for role in c.JupyterHub.load_roles}
    assert roles["user"] == ["self", "shares", "access:services!service=iyo-broker"]
    assert "access:services!service=iyo-broker" in roles["server"] and "access:servers!server" in roles["server"]


def test_a_shared_origin_is_warned_about():
    with pytest.warns(UserWarning, match="subdomain_host is not set"):
        configure_class(a_hub(), "class-org", "https://itsyou.online", SECRET, hub_login=False)
    assert "docs/jupyterhub.md" in SHARED_ORIGIN


def test_what_is_missing_is_one_line(monkeypatch):
    with pytest.raises(ValueError, match="set c.JupyterHub.public_url"):
        configure_class(Config(), "class-org", "https://itsyou.online", SECRET)
    with pytest.raises(ValueError, match="are all needed"):
        configure_class(a_hub(), "class-org", "https://itsyou.online", "")
    monkeypatch.delenv("JUPYTERHUB_CRYPT_KEY")
    with pytest.raises(ValueError, match="JUPYTERHUB_CRYPT_KEY"):
        configure_class(a_hub(subdomain_host="https://hub.example.org"), "class-org", "https://itsyou.online", SECRET)
