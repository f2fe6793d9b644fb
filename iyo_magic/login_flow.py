"""A login, for Python users and every front end: a `LoginRequest` and a secret in, a
`LoginResult` (tokens, a renewing auth, a Cockpit session) out.

`LoginRequest` (a value, in ``login_request``) holds what the user asked for (no secret) and
checks it; `login()` runs the flow (``protocol``), and the result's `IyoAuth` keeps the JWT fresh
with a `Renewal`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from .auth.requests_auth import IyoAuth
from .errors import ConfigError, IyoError
from .oauth import protocol
from .oauth.grants import grant
from .oauth.renewal import Renewal
from .oauth.request import LoginRequest
from .oauth.transport import Transport
from .tokens import JWT, AccessToken, Secret

if TYPE_CHECKING:
    from .cockpit.session import CockpitSession
    from .remember.store import Place


class LoginResult:
    """What a login produced; ``access_token`` is None with --jwt-only, ``jwt`` with --no-jwt."""

    def __init__(
        self,
        request: LoginRequest,
        access_token: AccessToken | None,
        jwt: JWT | None,
        auth: IyoAuth | None,
        secret_fingerprint: str = "",
        remembered_in: Place | None = None,
        resumed: bool = False,
        source: str = "",
    ) -> None:
        self.request = request
        self.access_token = access_token
        self.jwt = jwt
        self.auth = auth
        self.secret_fingerprint = secret_fingerprint
        #: Where ``--remember`` keeps the JWT (its kind and place, no value); None when it is not remembered.
        self.remembered_in = remembered_in
        #: True when the JWT is a remembered one, refreshed instead of logging in.
        self.resumed = resumed
        #: Where the login came from when not from this kernel's own flow (`FROM_HUB`, a broker's name).
        self.source = source

    def __repr__(self) -> str:  # the fingerprint stays out, as it tells whether two secrets match
        return (
            f"LoginResult(request={self.request!r}, access_token={self.access_token!r}, jwt={self.jwt!r}, "
            f"auth={self.auth!r}, remembered_in={self.remembered_in!r}, resumed={self.resumed!r}, "
            f"source={self.source!r})"
        )

    @cached_property
    def cockpit(self) -> CockpitSession | None:
        """A `CockpitSession` on the request's Cockpit URL with this login's auth, when both exist."""
        if self.auth is None or not self.request.cockpit_url:
            return None
        from .cockpit.session import CockpitSession

        return CockpitSession(
            self.request.cockpit_url, self.auth, timeout=self.request.timeout, ca_bundle=self.request.ca_bundle
        )

    def is_fresh_for(self, request: LoginRequest, fingerprint: str) -> bool:
        """True when an identical call may reuse this result without any request (a resumed
        login used no secret, so any secret matches it)."""
        if request != self.request:
            return False
        if self.secret_fingerprint and not hmac.compare_digest(fingerprint, self.secret_fingerprint):
            return False
        token = self.auth.jwt if self.auth else self.access_token
        return token is not None and token.expires_in > 60


_FINGERPRINT_KEY = os.urandom(32)  # what secrets.token_bytes returns, without importing it


def fingerprint(secret: str) -> str:
    """A keyed hash of the secret, valid for this process only, to tell identical calls apart."""
    return hmac.new(_FINGERPRINT_KEY, secret.encode(), hashlib.sha256).hexdigest()


def login(
    request: LoginRequest,
    secret: str | Callable[[], str],
    *,
    remember: bool = False,
    fresh: bool = False,
    notice: Callable[[str], None] = print,
    transport: Transport | None = None,
    code_grant: Callable[[Transport, LoginRequest, str], AccessToken] | None = None,
    on_renew: Callable[[JWT], None] | None = None,
    handed: JWT | None = None,
) -> LoginResult:
    """Run the flow of ``request`` with ``secret``; the result's auth keeps the JWT fresh.

    ``secret`` may be a function that asks for it: it is called only when the flow runs.
    ``code_grant`` runs the browser part of the Authorization Code flow and returns the access
    token; the client-credentials flow needs none. With ``remember``, a JWT kept by an earlier
    identical login is refreshed instead (one request, no secret, no browser), and this login's
    JWT is kept for the next one (see ``remember.store``); ``fresh`` skips the kept JWT and logs in
    (then keeps the new one). ``notice`` tells the user what happened. A ``code_grant`` whose
    ``needs_secret`` is False (a JupyterHub class's login broker) needs no secret. ``handed`` is a
    refreshable JWT that a JupyterHub handed this user's server (`FROM_HUB`): one refresh makes it
    this login's, with no secret and no browser.

    A failure raises an `IyoError` whose one-line message says what to do, from this frame: the
    frames below it, whose arguments hold the secret, stay out of any traceback.
    """
    secret = Secret(secret) if isinstance(secret, str) else secret  # masked in a verbose traceback
    try:
        if handed:
            return _from_the_hub(request, handed, transport, on_renew)
        return _login(request, secret, remember, fresh, notice, transport, code_grant, on_renew)
    except IyoError as error:
        raise error.with_traceback(None) from None


def _login(request, secret, remember, fresh, notice, transport, code_grant, on_renew) -> LoginResult:
    transport = transport or Transport(timeout=request.timeout, ca_bundle=request.ca_bundle)
    options = protocol.JwtOptions(
        request.scopes, request.audiences, request.validity, request.refreshable, request.public_key
    )
    remembering = None
    if remember:
        from .remember.resume import Remembering

        remembering = Remembering(request, notice)
        kept = None if fresh else remembering.resume(transport, options)
        if kept is not None:
            renewal = Renewal(transport, request.base_url, options, access_token=None, get_access_token=None)
            auth = IyoAuth(kept, renewal, on_renew=_both(remembering.write_back, on_renew))
            return LoginResult(request, None, kept, auth, remembered_in=remembering.place, resumed=True)
        on_renew = _both(remembering.write_back, on_renew)
    flow = grant(request.flow)
    secretless = flow.needs_user and code_grant is not None and not getattr(code_grant, "needs_secret", True)
    if callable(secret):
        secret = Secret("" if secretless else (secret() or ""))
    if not secret and not secretless:
        raise ConfigError("empty client secret")

    def get_access_token() -> AccessToken:
        if flow.needs_user:
            if code_grant is None:
                raise ConfigError(f"the {flow.name} flow needs a browser step (code_grant)")
            return code_grant(transport, request, secret)
        return protocol.client_credentials(transport, request.base_url, request.client_id, secret)

    def get_jwt(access_token: AccessToken | None) -> JWT:
        if access_token is None:
            return protocol.jwt_by_client_credentials(transport, request.base_url, request.client_id, secret, options)
        return protocol.jwt_from_access_token(transport, request.base_url, access_token, options)

    direct = request.jwt_only and flow.direct_jwt
    access_token = None if direct else get_access_token()
    if not request.want_jwt:
        return LoginResult(request, access_token, None, None, fingerprint(secret))
    jwt = get_jwt(access_token)
    renewal = Renewal(
        transport,
        request.base_url,
        options,
        access_token=access_token,
        get_access_token=get_access_token if flow.renews_unattended else None,
        get_jwt=get_jwt,
        direct=direct,
    )
    auth = IyoAuth(jwt, renewal, on_renew=on_renew)
    result = LoginResult(
        request, access_token, jwt, auth, fingerprint(secret), source=getattr(code_grant, "source", "")
    )
    if remembering is not None and remembering.keep(jwt):
        result.remembered_in = remembering.place
    return result


#: Where a JWT handed by the hub came from (``iyo_magic.hub``, ``hub_login=True``).
FROM_HUB = "the hub's ItsYou.online login"


def _from_the_hub(request: LoginRequest, handed: JWT, transport: Transport | None, on_renew) -> LoginResult:
    """The user's JWT that the hub handed this server, refreshed (one request); derived for the
    audiences or scopes the request asks beyond it (one more)."""
    if not request.want_jwt:
        raise ConfigError(f"{FROM_HUB} gives a JWT, not an access token: drop {{setting:want_jwt}}")
    transport = transport or Transport(timeout=request.timeout, ca_bundle=request.ca_bundle)
    options = protocol.JwtOptions(validity=request.validity, public_key=request.public_key)
    jwt = protocol.refresh_jwt(transport, request.base_url, handed, options)
    wanted = {s for s in request.scopes if s != protocol.OFFLINE_ACCESS}
    if request.audiences or not wanted <= set(jwt.scope) or not request.refreshable:
        jwt = jwt.derive(
            aud=request.audiences,
            scope=sorted(wanted) or None,
            validity=request.validity,
            refreshable=request.refreshable,
        )
    renewal = Renewal(transport, request.base_url, options, access_token=None, get_access_token=None)
    return LoginResult(request, None, jwt, IyoAuth(jwt, renewal, on_renew=on_renew), source=FROM_HUB)


def _both(first: Callable[[JWT], None], then: Callable[[JWT], None] | None) -> Callable[[JWT], None]:
    def call(jwt: JWT) -> None:
        first(jwt)
        if then is not None:
            then(jwt)

    return call
