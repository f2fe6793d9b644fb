"""`LoginRequest`: what the user asked a login for (no secret), checked; and `load_public_key`,
the PEM a JWT's signature is checked with.

A value, apart from the login that runs it (``login_flow``): building or checking one imports no
HTTP library, and what keeps or compares requests (``remember.store``, the front ends, the logout)
depends on this module, not on the login.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..settings import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, MAX_TIMEOUT, PUBLISHED_PUBLIC_KEY
from ..tokens import split_scopes
from .grants import DEFAULT_FLOW, grant
from .url_policy import check_url


def load_public_key(value: str | None) -> str | None:
    """PEM text, a path to a PEM file, or empty or 'none' for no signature check."""
    if not value or value.strip().lower() == "none":
        return None
    if "-----BEGIN" in value:
        return value
    path = Path(value).expanduser()
    try:
        text = path.read_text()
    except OSError:
        raise ConfigError(f"JWT public key file {value} cannot be read") from None
    if "-----BEGIN" not in text:
        raise ConfigError(f"JWT public key file {value} holds no PEM key")
    return text


@dataclass(frozen=True)
class LoginRequest:
    """Everything a login needs except the secret. Equal requests are 'identical calls'."""

    client_id: str
    base_url: str = DEFAULT_BASE_URL
    flow: str = DEFAULT_FLOW
    scopes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    validity: int | None = None
    refreshable: bool = True
    want_jwt: bool = True
    jwt_only: bool = False
    redirect_uri: str = ""
    cockpit_url: str = ""
    public_key: str | None = PUBLISHED_PUBLIC_KEY
    timeout: float = DEFAULT_TIMEOUT
    ca_bundle: str | None = None
    #: Where the browser opens ItsYou.online's login page, when not at ``base_url`` (a stand-in
    #: reached through the Jupyter server, on Binder); a path is taken relative to the notebook's page.
    login_base_url: str = ""

    def __post_init__(self) -> None:
        # "a,b", "a b" and repeated options all mean a list: one normal form, so equal calls compare equal.
        object.__setattr__(self, "scopes", split_scopes(self.scopes))
        object.__setattr__(self, "audiences", split_scopes(self.audiences))
        if not self.client_id:
            raise ConfigError("no client id: give {setting:client_id}")
        object.__setattr__(self, "flow", grant(self.flow).name)
        object.__setattr__(self, "base_url", check_url(self.base_url, "base URL"))
        if self.cockpit_url:
            object.__setattr__(self, "cockpit_url", check_url(self.cockpit_url, "Cockpit URL"))
        if self.login_base_url and not self.login_base_url.startswith("/"):
            object.__setattr__(self, "login_base_url", check_url(self.login_base_url, "login page URL"))
        if self.validity is not None and (
            isinstance(self.validity, bool) or not isinstance(self.validity, int) or self.validity <= 0
        ):
            raise ConfigError("{setting:validity} must be a positive whole number of seconds")
        if self.jwt_only and not self.want_jwt:
            raise ConfigError("{setting:jwt_only} and {setting:want_jwt} contradict each other; use one")
        if not (isinstance(self.timeout, (int, float)) and 0 < self.timeout <= MAX_TIMEOUT):
            raise ConfigError(f"{{setting:timeout}} must be a number of seconds from 0 to {MAX_TIMEOUT:g}")
        if self.ca_bundle and not Path(self.ca_bundle).expanduser().is_file():
            raise ConfigError(f"the CA bundle {self.ca_bundle} ({{setting:ca_bundle}}) is not a file")
