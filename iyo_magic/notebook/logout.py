"""``%iyo_token --logout``: forget a login here and everywhere it was remembered, then say
plainly what stays valid, because logging out of a notebook cannot withdraw a JWT: it is valid
until its expiry, and its refresh token until it goes unused for 30 days or the authorization
is removed on ItsYou.online.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..durations import utc_time
from ..errors import IyoError
from ..oauth.protocol import REFRESH_TOKEN_IDLE_DAYS
from ..tokens import JWT

if TYPE_CHECKING:
    from ..oauth.request import LoginRequest
    from .variables import TokenVariables


def log_out(variables: TokenVariables, prefix: str, request: LoginRequest | None) -> str:
    """Forget ``prefix``'s tokens and ``request``'s remembered JWT; the lines to show."""
    from ..remember.resume import forget

    earlier = variables.results.get(prefix)
    removed = variables.clear(prefix)
    lines = [f"forgot {', '.join(removed)}" if removed else f"nothing was stored under {prefix}_*"]
    kept_text = None
    if request is None:
        lines.append("no remembered JWT named: give the login's settings (or -p PROFILE) to delete it")
    elif request.want_jwt and request.refreshable:
        kept_text, place = forget(request)
        lines.append(f"deleted the remembered JWT from {place}" if kept_text else "no remembered JWT for this login")
    jwt = earlier.jwt if earlier is not None and earlier.jwt is not None else _unverified(kept_text)
    if jwt is not None and not jwt.expired:
        lines.append(still_valid(jwt, request.base_url if request else ""))
    return "\n".join(lines)


def still_valid(jwt: JWT, base_url: str) -> str:
    """What logging out cannot undo, for ``jwt``'s login."""
    when = utc_time(jwt.expires_at)
    text = f"still valid: the JWT, and any copy of it, until {when} (a JWT cannot be withdrawn)"
    if jwt.refreshable:
        where = f" at {base_url}" if base_url else ""
        text += (
            f"; its refresh token for up to {REFRESH_TOKEN_IDLE_DAYS} days after its last use, unless the "
            f"authorization of {jwt.azp or 'this client'} is removed on ItsYou.online{where} "
            "(your account's Authorizations)"
        )
    return text


def _unverified(text: str | None) -> JWT | None:
    """The kept JWT's claims, for its expiry (no signature check: it is about to be gone)."""
    if not text:
        return None
    try:
        return JWT(text)
    except (IyoError, ValueError):  # an unreadable entry says nothing about expiry
        return None
