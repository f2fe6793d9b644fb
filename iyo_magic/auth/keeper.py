"""`JwtKeeper`: holds a JWT and keeps it fresh, for whichever HTTP library sends it.

* renews the JWT before it expires: the leeway is 60 s but never more than half the JWT's
  lifetime, so short-lived JWTs are still used for most of their life;
* one renewal at a time: threads that find the JWT stale wait for the one renewing it;
* after a 401 from the very URL the JWT was sent to, it renews once (`after_401`); a 401 from
  elsewhere (after a redirect, on the same host too) costs nothing, and a JWT that was itself
  the answer to a 401 is not renewed again.

It knows no HTTP library. An adapter (`auth.IyoAuth` for ``requests``) asks it for the JWT to
send (`current`), puts `authorization` of it in the request's header, and after a 401 asks
`after_401` for the JWT to resend the request with, once. How to renew (refresh endpoint or
re-running the original flow) is the ``renew`` callable's business; `iyo_magic.login` builds it.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from ..tokens import JWT

DEFAULT_LEEWAY = 60.0


def authorization(jwt: JWT) -> str:
    """The ``Authorization`` header's value that carries ``jwt``."""
    return f"bearer {jwt}"


class JwtKeeper:
    """The current JWT, renewed by ``renew(old_jwt) -> new_jwt`` when it is stale or refused."""

    def __init__(
        self,
        jwt: JWT,
        renew: Callable[[JWT], JWT],
        *,
        on_renew: Callable[[JWT], None] | None = None,
        leeway: float = DEFAULT_LEEWAY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._jwt = jwt
        self._renew = renew
        self._on_renew = on_renew
        self._leeway = leeway
        #: The clock (seconds since the epoch) that expiry is judged by.
        self.clock = clock
        self._lock = threading.Lock()
        #: How many times the JWT was renewed (a figure for tests and benchmarks).
        self.renewals = 0
        # The JWT a 401 made us fetch: if the server refuses it too, renewing again cannot help.
        self._renewed_after_401: JWT | None = None

    @property
    def jwt(self) -> JWT:
        """The current JWT (masked when displayed)."""
        return self._jwt

    def __repr__(self) -> str:
        return f"<JwtKeeper (masked) for {self._jwt.identity}, renewed {self.renewals} times>"

    def _stale(self, jwt: JWT) -> bool:
        leeway = min(self._leeway, jwt.lifetime / 2)
        return self.clock() + jwt.clock_offset >= jwt.expires_at.timestamp() - leeway

    def current(self) -> JWT:
        """The JWT to send now, renewed first if it is about to expire."""
        jwt = self._jwt
        if self._stale(jwt):
            jwt = self._renew_if_still(jwt, force=False)
        return jwt

    def renew(self) -> JWT:
        """Renew the JWT now, whatever its expiry."""
        return self._renew_if_still(self._jwt, force=True)

    def after_401(self, sent_with: JWT, sent_to: str, answered_by: str) -> JWT | None:
        """A request sent with ``sent_with`` to the URL ``sent_to`` got a 401 from the URL
        ``answered_by``: the JWT to resend it with (once), or None to report the 401 as it is
        (a redirect led elsewhere, even on the same host: the resend would follow it with the JWT
        to a path the JWT is not meant for; or ``sent_with`` was already the answer to a 401)."""
        if answered_by != sent_to or sent_with is self._renewed_after_401:
            return None
        fresh = self._renew_if_still(sent_with, force=True)
        self._renewed_after_401 = fresh
        return fresh

    def _renew_if_still(self, seen: JWT, force: bool) -> JWT:
        with self._lock:
            # Another thread may have renewed while this one waited for the lock.
            if self._jwt is not seen or not (force or self._stale(seen)):
                return self._jwt
            fresh = self._renew(seen)
            self._jwt = fresh
            self.renewals += 1
        if self._on_renew is not None:
            self._on_renew(fresh)
        return fresh
