"""``configure_class(c, ...)``: one call in ``jupyterhub_config.py`` sets up a class whose
ItsYou.online secret stays in the hub (docs/jupyterhub.md)."""

from __future__ import annotations

import os
import sys
import warnings
from urllib.parse import urlsplit

from ..settings import BROKER_URL_ENV

#: The broker service's name, unless told.
BROKER_NAME = "iyo-broker"


#: Said when users' servers share the hub's origin (JupyterHub's own advice for untrusted users).
SHARED_ORIGIN = (
    "configure_class: c.JupyterHub.subdomain_host is not set, so every user's server shares the hub's "
    "origin: a student's page can then act in a classmate's browser on the hub (read where a login "
    "redirect went, plant cookies). For a class whose users may attack each other, give each user a "
    "subdomain (docs/jupyterhub.md)."
)


def registered_callback(public_url: str, hub_login: bool, service: str = BROKER_NAME) -> str:
    """The one callback URL to register on the class's API key. It ends in ``?``: ItsYou.online
    accepts any redirect URI that starts with it (a raw prefix match), and all that can follow a
    ``?`` is query, so no other path (no user's server, no dot segment) can be bent into it."""
    path = "/hub/oauth_callback" if hub_login else f"/services/{service}/callback"
    return f"{public_url.rstrip('/')}{path}?"


def configure_class(
    c,
    organization: str,
    base_url: str,
    client_secret: str,
    hub_login: bool = True,
    *,
    public_url: str = "",
    browser_base_url: str = "",
    jwt_public_key: str = "",
    cockpit_url: str = "",
    broker_port: int = 8979,
    broker_url: str = "",
    service_name: str = BROKER_NAME,
) -> str:
    """Set up ``c`` (the hub's config) for a class of ``organization`` at ItsYou.online
    ``base_url`` (as the hub reaches it; ``browser_base_url`` where browsers reach it, if other).
    ``client_secret`` stays in the hub (``hub_login=True``) or in the broker service
    (``hub_login=False``); users' servers get the settings, never the secret.

    Returns the callback URL to register on the organization's API key.
    """
    public = public_url or _configured(c.JupyterHub, "public_url")
    if not public or urlsplit(public).scheme not in ("http", "https") or not urlsplit(public).hostname:
        raise ValueError("configure_class: set c.JupyterHub.public_url (the hub's address in browsers) first")
    if not (organization and base_url and client_secret):
        raise ValueError("configure_class: organization, base_url and client_secret are all needed")
    browser_base = browser_base_url or base_url
    environment = dict(_configured(c.Spawner, "environment") or {})
    # the public address too, for a server behind a proxy that ends TLS (jupyter.public_address)
    environment.update(IYO_BASE_URL=base_url, IYO_CLIENT_ID=organization, IYO_PUBLIC_URL=public)
    if browser_base != base_url:
        environment["IYO_LOGIN_BASE_URL"] = browser_base
    if jwt_public_key:
        environment["IYO_JWT_PUBLIC_KEY"] = jwt_public_key
    if cockpit_url:
        environment["IYO_COCKPIT_URL"] = cockpit_url
    callback = registered_callback(public, hub_login, service_name)
    if not _configured(c.JupyterHub, "subdomain_host"):
        warnings.warn(SHARED_ORIGIN, stacklevel=2)
    if hub_login:
        _hub_login(c, organization, base_url, browser_base, client_secret, callback)
    else:
        service_url = f"http://127.0.0.1:{broker_port}"
        environment[BROKER_URL_ENV] = broker_url or f"{service_url}/services/{service_name}/"
        _broker(c, organization, base_url, browser_base, client_secret, callback, service_name, service_url)
    c.Spawner.environment = environment
    return callback


def _configured(section, name: str):
    """A value the config file set already (traitlets' lazy sections report unset values as empty)."""
    return section.get(name)


def _hub_login(c, organization, base_url, browser_base, secret, callback) -> None:
    if not os.environ.get("JUPYTERHUB_CRYPT_KEY"):
        raise ValueError(
            "configure_class(hub_login=True) keeps each user's JWT in the hub's encrypted auth state: "
            "set JUPYTERHUB_CRYPT_KEY in the hub's environment (openssl rand -hex 32)"
        )
    from .authenticator import IyoOAuthenticator, hand_jwt_to_server

    c.JupyterHub.authenticator_class = IyoOAuthenticator
    c.IyoOAuthenticator.organization = organization
    c.IyoOAuthenticator.iyo_url = base_url
    c.IyoOAuthenticator.browser_iyo_url = browser_base
    c.IyoOAuthenticator.client_secret = secret
    c.IyoOAuthenticator.oauth_callback_url = callback
    c.Spawner.auth_state_hook = hand_jwt_to_server


def _broker(c, organization, base_url, browser_base, secret, callback, name, service_url) -> None:
    services = [s for s in (_configured(c.JupyterHub, "services") or []) if s.get("name") != name]
    services.append(
        {
            "name": name,
            "url": service_url,
            "command": [sys.executable, "-m", "iyo_magic.hub.broker"],
            "oauth_no_confirm": True,
            "environment": {
                "IYO_BASE_URL": base_url,
                "IYO_LOGIN_BASE_URL": browser_base,
                "IYO_CLIENT_ID": organization,
                "IYO_CLIENT_SECRET": secret,
                "IYO_BROKER_CALLBACK": callback,
            },
        }
    )
    c.JupyterHub.services = services
    access = f"access:services!service={name}"
    roles = list(_configured(c.JupyterHub, "load_roles") or [])
    # users' browsers reach the broker (their role), and so do their kernels (their server's token)
    for role, scopes in (("user", ["self"]), ("server", ["users:activity!user", "access:servers!server"])):
        found = next((r for r in roles if r.get("name") == role), None)
        if found is None:
            roles.append({"name": role, "scopes": [*scopes, access]})
        elif access not in found.get("scopes", []):
            found["scopes"] = [*found.get("scopes", scopes), access]
    c.JupyterHub.load_roles = roles
