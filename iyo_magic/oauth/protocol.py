"""ItsYou.online's OAuth endpoints: one function per grant and endpoint.

Everything this package knows about the real server's protocol and quirks is here, as named
constants beside the function that needs them (``docs/protocol.md`` gives the source of each):

* errors are bare status texts; a bad client secret is **400**, a refused JWT scope **401**;
* the access token's ``token_type`` says ``bearer`` but the server wants ``Authorization: token``;
* ``scope`` in the token JSON is comma-separated and usually ends with a comma;
* ``/v1/oauth/jwt`` answers with a raw ``application/jwt`` body, never JSON;
* ``response_type=id_token`` on the token endpoint returns the JWT directly (one round trip);
* JWTs are refreshable only when ``offline_access`` was asked for; there is no OAuth refresh grant.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from ..errors import ConfigError, OAuthError
from ..tokens import JWT, AccessToken, split_scopes
from .frozen import Frozen

if TYPE_CHECKING:  # flows only receive a transport; importing requests here would slow %load_ext
    from .transport import Transport

ACCESS_TOKEN_PATH = "/v1/oauth/access_token"
AUTHORIZE_PATH = "/v1/oauth/authorize"
JWT_PATH = "/v1/oauth/jwt"
JWT_REFRESH_PATH = "/v1/oauth/jwt/refresh"

#: The scope that makes a JWT refreshable (it is stripped from the JWT's own scope list).
OFFLINE_ACCESS = "offline_access"
#: A refresh token lapses after this many days without use (the server's TTL on its last use).
REFRESH_TOKEN_IDLE_DAYS = 30
#: The real server keeps authorization codes for this long; exchange them at once.
CODE_LIFETIME_SECONDS = 10
#: Opaque access tokens go in this scheme; JWTs go as "bearer".
ACCESS_TOKEN_SCHEME = "token"
JWT_SCHEME = "bearer"


_TOKEN_ENDPOINT_ADVICE = {
    400: "client id or secret rejected (or the request is incomplete); check the client id and "
    "that the secret belongs to it, and for an organization key that the client credentials "
    "flow is enabled on it",
    401: "a requested JWT scope is not allowed for these credentials",
}
_CODE_EXCHANGE_ADVICE = {
    400: f"code exchange refused: a code lives only {CODE_LIFETIME_SECONDS} s (when pasting, paste "
    "at once), or the client secret is wrong, or the redirect URI is not under the API key's "
    "callback URL; run the flow again",
}


def _jwt_scope_advice(scopes: tuple[str, ...], access_token) -> dict[int, str]:
    asked = ",".join(scopes) or "(all)"
    has = ",".join(getattr(access_token, "scope", ())) or "none"
    return {
        401: f"scope {asked} refused: the access token has scope {has} (an organization key gets "
        "only organization:owner: use --aud ORG; a user key or login gets user:memberof:ORG only "
        "for members of ORG), or the access token expired",
    }


class JwtOptions(Frozen):
    """What to ask of a JWT: scopes, audiences, lifetime, refreshable; and the key to check it with."""

    __slots__ = ("scopes", "audiences", "validity", "refreshable", "public_key")

    scopes: tuple[str, ...]
    audiences: tuple[str, ...]
    validity: int | None
    refreshable: bool
    public_key: str | None

    def __init__(
        self,
        scopes: tuple[str, ...] = (),
        audiences: tuple[str, ...] = (),
        validity: int | None = None,
        refreshable: bool = True,
        public_key: str | None = None,
    ) -> None:
        self._set("scopes", scopes)
        self._set("audiences", audiences)
        self._set("validity", validity)
        self._set("refreshable", refreshable)
        self._set("public_key", public_key)

    def params(self) -> dict[str, str]:
        """The scope/aud/validity parameters shared by /jwt and the id_token variant."""
        wanted = [s for s in self.scopes if s != OFFLINE_ACCESS]
        if self.refreshable:
            wanted.append(OFFLINE_ACCESS)
        params = {}
        if wanted:
            params["scope"] = ",".join(wanted)
        if self.audiences:
            params["aud"] = ",".join(self.audiences)
        if self.validity:
            params["validity"] = str(int(self.validity))
        return params


#: Nothing asked beyond a refreshable JWT, and no signature check.
DEFAULT_JWT_OPTIONS = JwtOptions()


def _received_jwt(transport: Transport, base_url: str, response, what: str, public_key: str | None) -> JWT:
    """The JWT in a 2xx answer; refused when its signature does not match the configured key."""
    from .transport import clock_offset

    text = transport.text(response, what=what)
    jwt = issued_jwt(transport, base_url, text, public_key, clock_offset=clock_offset(response), what=what)
    if "exp" not in jwt.claims or jwt.expired:
        problem = "has no expiry (exp)" if "exp" not in jwt.claims else "has already expired"
        raise OAuthError(f"{what}: the server sent a JWT that {problem}")
    return jwt


def issued_jwt(
    transport: Transport,
    base_url: str,
    text: str,
    public_key: str | None,
    *,
    clock_offset: float = 0.0,
    what: str = "JWT",
) -> JWT:
    """A `JWT` that ``base_url`` issued (checked against ``public_key``), able to `JWT.derive`."""
    jwt = JWT(text, public_key=public_key, clock_offset=clock_offset)
    if public_key and not jwt.verified:
        raise OAuthError(
            f"{what}: {jwt.verify_note}. If the base URL is not itsyou.online, set IYO_JWT_PUBLIC_KEY "
            "to that server's public key (iyo-magic serve prints it), or to 'none' to skip the check"
        )
    jwt._set(_deriver=functools.partial(derive_jwt, transport, base_url, public_key))
    return jwt


def client_credentials(transport: Transport, base_url: str, client_id: str, client_secret: str) -> AccessToken:
    """Client Credentials grant: an organization API key or a user API key → access token."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    return _token_request(transport, base_url, "access token (client credentials)", form, _TOKEN_ENDPOINT_ADVICE)


def authorize_url(base_url: str, client_id: str, redirect_uri: str, scopes: tuple[str, ...], state: str) -> str:
    """The URL the user opens to log in and consent (Authorization Code flow, step 1)."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": ",".join(scopes),
        "state": state,
    }
    return f"{base_url}{AUTHORIZE_PATH}?{urlencode(query)}"


def new_state() -> str:
    """An unguessable ``state`` for one authorization request."""
    import secrets  # here: the client credentials flow, the first JWT's, needs none

    return secrets.token_urlsafe(24)


def exchange_code(
    transport: Transport,
    base_url: str,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    state: str,
) -> AccessToken:
    """Authorization Code grant, step 2: code → access token (within 10 s of the redirect)."""
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return _token_request(transport, base_url, "access token (authorization code)", form, _CODE_EXCHANGE_ADVICE)


def _token_request(transport: Transport, base_url: str, what: str, form: dict, explain: dict) -> AccessToken:
    """POST the form (secrets in the body, never the URL) and read the token JSON."""
    received_at = time.time()
    response = transport.request("POST", base_url + ACCESS_TOKEN_PATH, what=what, data=form)
    transport.expect(response, what=what, explain=explain)
    body = transport.json(response, what=what)
    if not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise OAuthError(f"{what}: the answer has no access_token; is the base URL an ItsYou.online server?")
    return AccessToken.from_response(body, client_id=form["client_id"], received_at=received_at)


def jwt_from_access_token(
    transport: Transport,
    base_url: str,
    access_token: str,
    options: JwtOptions = DEFAULT_JWT_OPTIONS,
) -> JWT:
    """``GET /v1/oauth/jwt`` with ``Authorization: token <access token>``."""
    advice = _jwt_scope_advice(options.scopes, access_token)
    return _jwt_endpoint(transport, base_url, ACCESS_TOKEN_SCHEME, access_token, options, "JWT", advice)


def _jwt_endpoint(
    transport: Transport,
    base_url: str,
    scheme: str,
    token: str,
    options: JwtOptions,
    what: str,
    explain: dict[int, str],
) -> JWT:
    """``GET /v1/oauth/jwt`` with ``Authorization: <scheme> <token>`` (the token stays a masked
    value in this frame's arguments)."""
    response = transport.request(
        "GET",
        base_url + JWT_PATH,
        what=what,
        params=options.params(),
        headers={"Authorization": f"{scheme} {token}"},
    )
    transport.expect(response, what=what, explain=explain)
    return _received_jwt(transport, base_url, response, what, options.public_key)


def jwt_by_client_credentials(
    transport: Transport,
    base_url: str,
    client_id: str,
    client_secret: str,
    options: JwtOptions = DEFAULT_JWT_OPTIONS,
) -> JWT:
    """One round trip: client credentials with ``response_type=id_token`` → JWT (no access token)."""
    what = "JWT (client credentials, response_type=id_token)"
    data = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "response_type": "id_token",
        **options.params(),
    }
    response = transport.request(
        "POST",
        base_url + ACCESS_TOKEN_PATH,
        what=what,
        data=data,
        headers={"Accept": "application/jwt"},
    )
    transport.expect(response, what=what, explain=_TOKEN_ENDPOINT_ADVICE)
    return _received_jwt(transport, base_url, response, what, options.public_key)


def refresh_jwt(
    transport: Transport,
    base_url: str,
    jwt: str,
    options: JwtOptions = DEFAULT_JWT_OPTIONS,
) -> JWT:
    """``GET /v1/oauth/jwt/refresh`` with the old (possibly expired) refreshable JWT."""
    what = "JWT refresh"
    params = {"validity": str(int(options.validity))} if options.validity else None
    response = transport.request(
        "GET",
        base_url + JWT_REFRESH_PATH,
        what=what,
        params=params,
        headers={"Authorization": f"{JWT_SCHEME} {jwt}"},
    )
    transport.expect(
        response,
        what=what,
        explain={
            401: f"the refresh token is unknown or expired (unused for {REFRESH_TOKEN_IDLE_DAYS} days); log in again"
        },
    )
    return _received_jwt(transport, base_url, response, what, options.public_key)


def derive_jwt(
    transport: Transport,
    base_url: str,
    public_key: str | None,
    parent: JWT,
    *,
    aud=(),
    scope=None,
    validity: int | None = None,
    refreshable: bool = False,
) -> JWT:
    """``GET /v1/oauth/jwt`` with ``Authorization: bearer <parent>`` ("Case 3"): a new JWT from
    a user's refreshable JWT. Without ``scope`` it asks for the parent's scopes (the server would
    give none); an expired parent is refreshed first (one request more)."""
    if not parent.username:
        raise ConfigError(
            "derive: ItsYou.online derives JWTs only from a user's JWT, and this one is an organization's "
            "(its server fails on it); log in again with the --aud and --scope you need"
        )
    if not parent.refreshable:
        raise ConfigError("derive: needs a JWT with a refresh token (log in without --no-refresh)")
    scopes = split_scopes(scope) if scope is not None else tuple(s for s in parent.scope if s)
    options = JwtOptions(scopes, split_scopes(aud), validity, refreshable, public_key)
    if parent.expired:
        parent = refresh_jwt(transport, base_url, parent, JwtOptions(public_key=public_key))
    refused = f"this JWT does not allow scope {','.join(scopes) or '(none)'}, or its refresh token is gone"
    return _jwt_endpoint(transport, base_url, JWT_SCHEME, parent, options, "derived JWT", {401: refused})
