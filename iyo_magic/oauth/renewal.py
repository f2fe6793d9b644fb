"""`Renewal`: how the JWT keeper (`IyoAuth`'s) gets a new JWT when the one it holds is about to expire.

In order: the refresh endpoint (when the JWT is refreshable); else a new JWT from the access
token while that is still valid; else the flow again with the credentials the login used
(client credentials only: the Authorization Code flow needs the user in a browser).

Its messages tell "failed, try again" (ItsYou.online answered 5xx, or did not answer) from
"cannot be refreshed any more" (a definite 400 or 401 from the refresh endpoint, `refresh_refused`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..errors import IyoError, OAuthError, RefreshError
from ..tokens import JWT, AccessToken
from . import protocol

if TYPE_CHECKING:
    from .transport import Transport

#: An access token this close to its expiry is not used to get a JWT.
ACCESS_TOKEN_MARGIN = 60.0
#: What ItsYou.online answers at the refresh endpoint for a refresh token that is no good
#: (unknown, revoked, unused for 30 days; a JWT it cannot read): a definite no, unlike a 5xx.
REFRESH_REFUSED = (400, 401)


def refresh_refused(error: Exception) -> bool:
    """True when ``error`` (from the refresh endpoint) says the refresh token is no good for
    certain; False for a failure that trying again may mend (5xx, a timeout, no connection)."""
    return isinstance(error, OAuthError) and error.status in REFRESH_REFUSED


def failed_try_again(error: IyoError) -> RefreshError:
    """The renewal's error when ItsYou.online failed rather than refused."""
    return RefreshError(f"could not renew the JWT: ItsYou.online failed ({error}); try again")


class Renewal:
    """Callable ``renewal(old_jwt) -> new_jwt``; keeps the newest access token it obtained.

    ``get_access_token`` runs the login's flow again (``None`` when it cannot run without the
    user); ``get_jwt(access_token)`` asks for a JWT with the login's options, from the access
    token or (``None``) straight from the client credentials, as a ``direct`` login did. A
    resumed ``--remember`` login has neither: only the refresh endpoint renews it.
    """

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        options: protocol.JwtOptions,
        *,
        access_token: AccessToken | None,
        get_access_token: Callable[[], AccessToken] | None,
        get_jwt: Callable[[AccessToken | None], JWT] | None = None,
        direct: bool = False,
    ) -> None:
        self.transport = transport
        self.base_url = base_url
        self.options = options
        self.access_token = access_token
        self.get_access_token = get_access_token
        self.get_jwt = get_jwt
        self.direct = direct

    def __repr__(self) -> str:
        return f"<Renewal via {self.base_url}>"

    def __call__(self, old: JWT) -> JWT:
        try:
            return self._renew(old)
        except RefreshError:
            raise
        except IyoError as exc:
            raise RefreshError(f"could not renew the JWT: {exc}") from None

    def _renew(self, old: JWT) -> JWT:
        failure = None  # a refresh that failed without saying the refresh token is no good
        if old.refreshable:
            try:
                return protocol.refresh_jwt(self.transport, self.base_url, old, self.options)
            except IyoError as exc:  # the refresh token may be gone (revoked, unused 30 days): try the other ways
                failure = None if refresh_refused(exc) else exc
        if self.get_jwt is None:
            if failure is not None:
                raise failed_try_again(failure)
            raise RefreshError("the remembered JWT can no longer be refreshed; run %iyo_token again to log in")
        if self.direct:
            return self.get_jwt(None)
        token = self.access_token
        if token is not None and token.expires_in > ACCESS_TOKEN_MARGIN:
            try:
                return self.get_jwt(token)
            except IyoError:
                pass  # the server may have forgotten the access token: log in again below
        if self.get_access_token is None:
            if failure is not None:
                raise failed_try_again(failure)
            raise RefreshError("the JWT can no longer be renewed without the user; log in in the browser again")
        self.access_token = self.get_access_token()
        return self.get_jwt(self.access_token)
