"""`IyoAuth`: a requests auth that sends the JWT and keeps it fresh.

* sends ``Authorization: bearer <jwt>``;
* renews the JWT before it expires: the leeway is 60 s but never more than half the JWT's
  lifetime, so short-lived JWTs are still used for most of their life;
* one renewal at a time: threads that find the JWT stale wait for the one renewing it;
* after a 401 from the origin it sent the JWT to, it renews once and resends the request once
  (the shape of requests' ``HTTPDigestAuth.handle_401``); a 401 from elsewhere (after a
  redirect) costs nothing, and a JWT that was itself the answer to a 401 is not renewed again.

What to send and when to renew is decided by its `JwtKeeper` (``.keeper``), which knows no HTTP
library; this module is only the ``requests`` glue: the header, the response hook, the resend.
How to renew (refresh endpoint or re-running the original flow) is the ``renew`` callable's
business; `iyo_magic.login` builds it.
"""

from __future__ import annotations

import time
from typing import Callable

import requests
from requests.auth import AuthBase

from ..tokens import JWT
from .keeper import DEFAULT_LEEWAY, JwtKeeper, authorization


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
        #: Holds the JWT and renews it; another HTTP library's adapter may share it.
        self.keeper = JwtKeeper(jwt, renew, on_renew=on_renew, leeway=leeway, clock=clock)

    @property
    def jwt(self) -> JWT:
        """The current JWT (masked when displayed)."""
        return self.keeper.jwt

    @property
    def clock(self) -> Callable[[], float]:
        """The clock (seconds since the epoch) that expiry is judged by."""
        return self.keeper.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.keeper.clock = clock

    @property
    def renewals(self) -> int:
        """How many times the JWT was renewed (a figure for tests and benchmarks)."""
        return self.keeper.renewals

    @renewals.setter
    def renewals(self, count: int) -> None:
        self.keeper.renewals = count

    def __repr__(self) -> str:
        return f"<IyoAuth (masked) for {self.jwt.identity}, renewed {self.renewals} times>"

    def current(self) -> JWT:
        """The JWT to send now, renewed first if it is about to expire."""
        return self.keeper.current()

    def renew(self) -> JWT:
        """Renew the JWT now, whatever its expiry."""
        return self.keeper.renew()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        keeper = self.keeper
        sent_with, sent_to = keeper.current(), request.url or ""  # a request being sent has its URL
        request.headers["Authorization"] = authorization(sent_with)

        def handle_401(response: requests.Response, **kwargs) -> requests.Response:
            if response.status_code != 401 or getattr(response.request, "_iyo_retried", False):
                return response
            fresh = keeper.after_401(sent_with, sent_to, response.request.url or "")
            if fresh is None:
                return response
            response.content  # noqa: B018 - read the body so the connection can be reused
            response.close()
            retry = response.request.copy()
            retry.headers["Authorization"] = authorization(fresh)
            retry._iyo_retried = True  # type: ignore[attr-defined]
            again = response.connection.send(retry, **kwargs)
            again.history.append(response)
            again.request = retry
            return again

        request.register_hook("response", handle_401)
        return request
