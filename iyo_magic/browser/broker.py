"""The Authorization Code flow through a JupyterHub class's login broker (``$IYO_BROKER_URL``,
set by ``iyo_magic.hub.configure_class(..., hub_login=False)``): the class's secret stays in the
broker, so this kernel needs none.

The kernel starts a login with its server's hub API token, shows the link, and collects the
access token once the broker has checked that the browser is this hub user and exchanged the
code. The same interface as `BrowserStep`: called with (transport, request, secret), it returns
the access token; the secret is not used (`needs_secret` is False).
"""

from __future__ import annotations

import os
import time
import webbrowser
from dataclasses import dataclass
from typing import Callable

from ..errors import Cancelled, ConfigError, NoAnswer, OAuthError
from ..oauth.transport import Transport
from ..settings import DEFAULT_WAIT, FROM_BROKER
from ..tokens import AccessToken
from .step import LINK_WITHDRAWN

WHAT = FROM_BROKER
#: Seconds each collect request waits at the broker for the answer (the broker caps it).
POLL_WAIT = 1.0


@dataclass
class BrokerStep:
    """Log in through the broker at ``url`` (it ends in ``/``), as the hub user of ``api_token``."""

    url: str
    api_token: str
    show_link: Callable[[str], Callable[[str], None]]
    notice: Callable[[str], None] = print
    cancelled: Callable[[], bool] = lambda: False
    wait: float = DEFAULT_WAIT
    open_browser: bool = False
    browser: Callable[[str], bool] = webbrowser.open
    #: The broker holds the secret: this step needs none (see `login_flow.login`).
    needs_secret = False
    source = WHAT

    @classmethod
    def from_environment(cls, url: str, **step) -> BrokerStep:
        token = os.environ.get("JUPYTERHUB_API_TOKEN", "")
        if not token:
            raise ConfigError(f"{WHAT} answers kernels of hub users only ($JUPYTERHUB_API_TOKEN is not set)")
        return cls(url if url.endswith("/") else url + "/", token, **step)

    def __call__(self, transport: Transport, request, secret: str = "") -> AccessToken:
        headers = {"Authorization": f"token {self.api_token}"}
        scopes = ",".join(request.scopes)
        response = transport.request("POST", self.url + "logins", what=WHAT, data={"scope": scopes}, headers=headers)
        transport.expect(response, what=WHAT, explain={403: "the hub did not let this server's token in"})
        started = transport.json(response, what=WHAT)
        link, login_id = started.get("link"), started.get("id")
        if not (isinstance(link, str) and isinstance(login_id, str)):
            raise OAuthError(f"{WHAT}: its answer has no login link")
        self.notice("The class's login broker holds the secret: log in with the link, as your hub user.")
        withdraw = self.show_link(link)
        try:
            if self.open_browser and not self.browser(link):
                self.notice("No browser could be opened here: open the link above yourself.")
            return self._collect(transport, request, login_id, headers)
        finally:
            withdraw(LINK_WITHDRAWN)

    def _collect(self, transport: Transport, request, login_id: str, headers: dict) -> AccessToken:
        deadline = time.monotonic() + self.wait
        while True:
            if self.cancelled():
                raise Cancelled("cancelled")
            if time.monotonic() >= deadline:
                raise NoAnswer(self.wait, self.url + "callback")
            received_at = time.time()
            response = transport.request(
                "GET", f"{self.url}logins/{login_id}", what=WHAT, params={"wait": str(POLL_WAIT)}, headers=headers
            )
            transport.expect(response, what=WHAT)
            answer = transport.json(response, what=WHAT)
            if answer.get("status") == "done":
                return AccessToken.from_response(answer, client_id=request.client_id, received_at=received_at)
            if answer.get("status") == "failed":
                if answer.get("error") == "declined":
                    raise OAuthError("you declined the authorization on ItsYou.online; run the magic again to retry")
                raise OAuthError(f"{WHAT}: {str(answer.get('error', 'the login failed'))[:200]}")
