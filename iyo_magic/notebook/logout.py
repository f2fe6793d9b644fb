"""``%iyo_token --logout``: forget a login here and everywhere it was remembered, then say
plainly what stays valid, because logging out of a notebook cannot withdraw a JWT: it is valid
until its expiry, and its refresh token until it goes unused for 30 days or the authorization
is removed on ItsYou.online.

It looks in every place a JWT can be kept now (the keyring, if one is found, and the files),
deletes without waiting for a login's lock, and says which other remembered logins remain;
``--logout --all`` forgets them all. `kept_lines` lists them for ``--status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..durations import utc_time
from ..errors import IyoError
from ..oauth.protocol import REFRESH_TOKEN_IDLE_DAYS
from ..tokens import JWT

if TYPE_CHECKING:
    from ..oauth.request import LoginRequest
    from ..remember.store import Kept
    from .variables import TokenVariables

#: How many other remembered logins a line names before it only counts them.
NAMED_AT_MOST = 3
BUSY = "; a refresh was in progress in another process: deleted without waiting for it"


def log_out(variables: TokenVariables, prefix: str, request: LoginRequest | None, everything: bool = False) -> str:
    """Forget ``prefix``'s tokens and ``request``'s remembered JWT (with ``everything``, every
    remembered login of this user); the lines to show."""
    from ..remember.resume import forget, kept_logins

    earlier = variables.results.get(prefix)
    removed = variables.clear(prefix)
    lines = [f"forgot {', '.join(removed)}" if removed else f"nothing was stored under {prefix}_*"]
    if everything:
        return "\n".join(lines + _forget_all(earlier.jwt if earlier is not None else None, request))
    kept_text = None
    if request is None:
        lines.append(
            "no remembered JWT named: give the login's settings (or -p PROFILE) to delete it"
            + _others(tuple(kept_logins()))
        )
    elif request.want_jwt and request.refreshable:
        forgotten = forget(request)
        kept_text = forgotten.text
        places = " and ".join(str(place) for place in forgotten.places)
        line = f"deleted the remembered JWT from {places}" if forgotten.places else "no remembered JWT for this login"
        lines.append(line + (BUSY if forgotten.busy else "") + _others(forgotten.others))
    jwt = earlier.jwt if earlier is not None and earlier.jwt is not None else _unverified(kept_text)
    if jwt is not None and not jwt.expired:
        lines.append(still_valid(jwt, request.base_url if request else ""))
    return "\n".join(lines)


def _forget_all(current: JWT | None, request: LoginRequest | None) -> list[str]:
    from ..remember.resume import forget_all

    forgotten, busy, damaged = forget_all(request)
    if not forgotten:
        lines = ["no remembered logins"]
    else:
        count = f"{len(forgotten)} remembered login{'s' if len(forgotten) != 1 else ''}"
        lines = [f"deleted {count}: {_named(forgotten)}" + (BUSY if busy else "")]
        lines.append(
            "still valid: each of their JWTs, and any copy, until its expiry (a JWT cannot be withdrawn); "
            f"its refresh token for up to {REFRESH_TOKEN_IDLE_DAYS} days after its last use, unless the "
            "authorization is removed on ItsYou.online (your account's Authorizations)"
        )
    if damaged:
        lines.append(
            "the index of remembered logins was unreadable: JWTs kept in the keyring may remain; log out of "
            "each login by its settings (or -p PROFILE), or delete the iyo_magic entries in your keyring"
        )
    if current is not None and not current.expired and not forgotten:
        lines.append(still_valid(current, ""))
    return lines


def _others(others: tuple[Kept, ...]) -> str:
    """``; N other remembered login(s): ... (use --logout --all)``, or '' when there are none."""
    if not others:
        return ""
    count = f"{len(others)} other remembered login{'s' if len(others) != 1 else ''}"
    return f"; {count}: {_named(others)} (use --logout --all)"


def _named(logins) -> str:
    names = [str(kept) for kept in logins[:NAMED_AT_MOST]]
    more = len(logins) - len(names)
    return "; ".join(names) + (f"; and {more} more" if more else "")


def kept_lines() -> list[str]:
    """``--status``'s list of every remembered login of this user: whose, until when, where (no JWT)."""
    from ..remember.resume import kept_logins

    logins = kept_logins()
    if not logins:
        return []
    lines = [f"remembered logins ({len(logins)}; --logout --all forgets them all):"]
    for kept in logins:
        places = " and ".join(f"{place}{' (a plain file)' if place.plain else ''}" for place in kept.places)
        whose = f"{kept.jwt.identity} until {utc_time(kept.jwt.expires_at)}" if kept.jwt else "unreadable"
        lines.append(f"  {whose} · {kept} · in {places}")
    return lines


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
