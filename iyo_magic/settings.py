"""The settings every front end shares: their defaults, their environment variables, and how a
value is found (``%config IyoMagics.<name>``, else the environment, else the default).

A leaf module: it imports nothing of the package but its errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError

DEFAULT_BASE_URL = "https://itsyou.online"
#: Where the Authorization Code flow asks ItsYou.online to send the browser back when nothing is
#: configured and no Jupyter server with the extension is there (the loopback listener's default
#: port; register it as the API key's callback URL).
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8976/callback"
#: Seconds to wait for each HTTP answer, unless configured.
DEFAULT_TIMEOUT = 10.0
#: No request waits longer than this for its answer, whatever is configured.
MAX_TIMEOUT = 600.0
#: How long the Authorization Code flow waits for the browser, unless told, and at most.
DEFAULT_WAIT = 120.0
MAX_WAIT = 3600.0

#: The published itsyou.online JWT signing key (ES384, P-384).
PUBLISHED_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAES5X8XrfKdx9gYayFITc89wad4usrk0n2
7MjiGYvqalizeSWTHEpnd7oea9IQ8T5oJjMVH5cc0H5tFSKilFFeh//wngxIyny6
6+Vq5t5B0V0Ehy01+2ceEon2Y0XDkIKv
-----END PUBLIC KEY-----
"""

#: Where the client secret is read from, unless told otherwise (never a setting).
SECRET_ENV = "IYO_CLIENT_SECRET"
#: What a JupyterHub class hands a user's server (``iyo_magic.hub``, docs/jupyterhub.md): the
#: user's own refreshable JWT from the hub's ItsYou.online login, or where the class's login
#: broker answers that user's kernel.
HUB_JWT_ENV = "IYO_HUB_JWT"
BROKER_URL_ENV = "IYO_BROKER_URL"
#: How a login through that broker is named to the user.
FROM_BROKER = "the class's login broker"

#: Read by the Jupyter server extension, in the server's environment (``jupyter.public_address``):
#: the address browsers use for the server (its origin is taken), and the proxies whose
#: ``X-Forwarded-Host``/``-Proto`` count (comma-separated IP addresses).
PUBLIC_URL_ENV = "IYO_PUBLIC_URL"
TRUSTED_PROXIES_ENV = "IYO_TRUSTED_PROXIES"

#: Each setting's environment variable.
ENVIRONMENT = {
    "base_url": "IYO_BASE_URL",
    "client_id": "IYO_CLIENT_ID",
    "redirect_uri": "IYO_REDIRECT_URI",
    "jwt_public_key": "IYO_JWT_PUBLIC_KEY",
    "cockpit_url": "IYO_COCKPIT_URL",
    "timeout": "IYO_TIMEOUT",
    "ca_bundle": "IYO_CA_BUNDLE",
    "login_base_url": "IYO_LOGIN_BASE_URL",
}
DEFAULTS: dict[str, Any] = {
    "base_url": DEFAULT_BASE_URL,
    "client_id": "",
    "redirect_uri": "",  # not configured: see notebook_login.default_redirect_uri
    "jwt_public_key": PUBLISHED_PUBLIC_KEY,
    "cockpit_url": "",
    "timeout": DEFAULT_TIMEOUT,
    "ca_bundle": "",
    "login_base_url": "",
    "browser": "",
}


def from_environment(name: str) -> Any:
    """The setting's value from its environment variable, else its default."""
    variable = ENVIRONMENT.get(name)
    raw = os.environ.get(variable, "").strip() if variable else ""
    if not raw:
        return DEFAULTS[name]
    if name == "timeout":
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{variable} is not a number of seconds; fix or unset it") from None
    return raw


def resolve(configured: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting: ``configured`` (``%config IyoMagics``) first, then the environment, then the default."""
    return {name: configured[name] if name in configured else from_environment(name) for name in DEFAULTS}
