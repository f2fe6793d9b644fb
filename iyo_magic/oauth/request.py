"""`LoginRequest`: what the user asked a login for (no secret), checked; and `load_public_key`,
the PEM a JWT's signature is checked with.

A value, apart from the login that runs it (``login_flow``): building or checking one imports no
HTTP library, and what keeps or compares requests (``remember.store``, the front ends, the logout)
depends on this module, not on the login.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError
from ..settings import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, MAX_TIMEOUT, PUBLISHED_PUBLIC_KEY
from ..tokens import split_scopes
from .frozen import Frozen
from .grants import DEFAULT_FLOW, grant
from .url_policy import check_url, parsed


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


class LoginRequest(Frozen):
    """Everything a login needs except the secret. Equal requests are 'identical calls'.

    Immutable; ``request.replace(flow="code")`` is a copy with a change, checked again.
    """

    __slots__ = (
        "client_id",
        "base_url",
        "flow",
        "scopes",
        "audiences",
        "validity",
        "refreshable",
        "want_jwt",
        "jwt_only",
        "redirect_uri",
        "cockpit_url",
        "public_key",
        "timeout",
        "ca_bundle",
        "login_base_url",
    )

    client_id: str
    base_url: str
    flow: str
    scopes: tuple[str, ...]
    audiences: tuple[str, ...]
    validity: int | None
    refreshable: bool
    want_jwt: bool
    jwt_only: bool
    redirect_uri: str
    cockpit_url: str
    public_key: str | None
    timeout: float
    ca_bundle: str | None
    #: Where the browser opens ItsYou.online's login page, when not at ``base_url`` (a stand-in
    #: reached through the Jupyter server, on Binder); a path is taken relative to the notebook's page.
    login_base_url: str

    def __init__(
        self,
        client_id: str,
        base_url: str = DEFAULT_BASE_URL,
        flow: str = DEFAULT_FLOW,
        scopes: str | Iterable[str] = (),
        audiences: str | Iterable[str] = (),
        validity: int | None = None,
        refreshable: bool = True,
        want_jwt: bool = True,
        jwt_only: bool = False,
        redirect_uri: str = "",
        cockpit_url: str = "",
        public_key: str | None = PUBLISHED_PUBLIC_KEY,
        timeout: float = DEFAULT_TIMEOUT,
        ca_bundle: str | None = None,
        login_base_url: str = "",
    ) -> None:
        # "a,b", "a b" and repeated options all mean a list: one normal form, so equal calls compare equal.
        self._set("scopes", split_scopes(scopes))
        self._set("audiences", split_scopes(audiences))
        if not client_id:
            raise ConfigError("no client id: give {setting:client_id}")
        self._set("client_id", client_id)
        self._set("flow", grant(flow).name)
        self._set("base_url", check_url(base_url, "base URL"))
        if cockpit_url:
            cockpit_url = check_url(cockpit_url, "Cockpit URL")
        self._set("cockpit_url", cockpit_url)
        if login_base_url and not login_base_url.startswith("/"):
            login_base_url = check_url(login_base_url, "login page URL")
        self._set("login_base_url", login_base_url)
        if validity is not None and (isinstance(validity, bool) or not isinstance(validity, int) or validity <= 0):
            raise ConfigError("{setting:validity} must be a positive whole number of seconds")
        self._set("validity", validity)
        if jwt_only and not want_jwt:
            raise ConfigError("{setting:jwt_only} and {setting:want_jwt} contradict each other; use one")
        if not (isinstance(timeout, (int, float)) and 0 < timeout <= MAX_TIMEOUT):
            raise ConfigError(f"{{setting:timeout}} must be a number of seconds from 0 to {MAX_TIMEOUT:g}")
        if ca_bundle and not Path(ca_bundle).expanduser().is_file():
            raise ConfigError(f"the CA bundle {ca_bundle} ({{setting:ca_bundle}}) is not a file")
        self._set("refreshable", refreshable)
        self._set("want_jwt", want_jwt)
        self._set("jwt_only", jwt_only)
        if redirect_uri:  # any address the browser can return to; only one urllib cannot read is refused
            parsed(redirect_uri, "redirect URI")
        self._set("redirect_uri", redirect_uri)
        self._set("public_key", public_key)
        self._set("timeout", timeout)
        self._set("ca_bundle", ca_bundle)
