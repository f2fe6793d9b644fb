"""`IyoAuth`: a requests auth that sends the JWT and keeps it fresh.

* sends ``Authorization: bearer <jwt>``;
* renews the JWT before it expires: the leeway is 60 s but never more than half the JWT's
  lifetime, so short-lived JWTs are still used for most of their life;
* one renewal at a time: threads that find the JWT stale wait for the one renewing it;
* after a 401 from the origin it sent the JWT to, it renews once and resends the request once
  (the shape of requests' ``HTTPDigestAuth.handle_401``); a 401 from elsewhere (after a
  redirect) costs nothing, and a JWT that was itself the answer to a 401 is not renewed again.

How to renew (refresh endpoint or re-running the original flow) is the ``renew`` callable's
business; `iyo_magic.login` builds it.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import requests
from requests.auth import AuthBase

from .tokens import JWT

DEFAULT_LEEWAY = 60.0


class IyoAuth(AuthBase):
    """``requests`` auth for the Cockpit: ``session.get(url, auth=iyo_auth)``."""

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
        return f"<IyoAuth (masked) for {self._jwt.identity}, renewed {self.renewals} times>"

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

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        from .url_policy import origin

        jwt = self.current()
        request.headers["Authorization"] = f"bearer {jwt}"
        sent_with, sent_to = jwt, origin(request.url or "")  # a request being sent has its URL

        def handle_401(response: requests.Response, **kwargs) -> requests.Response:
            if (
                response.status_code != 401
                or getattr(response.request, "_iyo_retried", False)
                or origin(response.request.url or "") != sent_to  # a redirect elsewhere: not our JWT's business
                or sent_with is self._renewed_after_401  # renewed once already for a 401: report it
            ):
                return response
            fresh = self._renew_if_still(sent_with, force=True)
            self._renewed_after_401 = fresh
            response.content  # noqa: B018 - read the body so the connection can be reused
            response.close()
            retry = response.request.copy()
            retry.headers["Authorization"] = f"bearer {fresh}"
            retry._iyo_retried = True  # type: ignore[attr-defined]
            again = response.connection.send(retry, **kwargs)
            again.history.append(response)
            again.request = retry
            return again

        request.register_hook("response", handle_401)
        return request
