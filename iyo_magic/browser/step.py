"""The Authorization Code flow's browser step, then the code exchange, for `login_flow.login`.

1. build the authorize URL with an unguessable ``state`` and show it (and open the browser);
2. get the answer: the loopback listener catches the redirect, or the user pastes the URL;
3. check the state, then exchange the code at once (ItsYou.online keeps it 10 s).
"""

from __future__ import annotations

import hmac
import webbrowser
from dataclasses import dataclass
from typing import Callable

from ..errors import ConfigError, OAuthError
from ..oauth import protocol
from ..oauth.transport import Transport
from ..settings import DEFAULT_WAIT, MAX_WAIT
from ..tokens import AccessToken
from .listener import CallbackListener, listen_address, parse_pasted

#: Registration hints already given in this kernel (the magic says each once).
_REGISTRATION_TOLD: set[str] = set()
#: What replaces the login link once the flow is over: the link holds the state, so it goes.
LINK_WITHDRAWN = "login link removed (it is single-use); run the magic again for a new one"


@dataclass
class BrowserStep:
    """How the front end takes part: show the link, maybe open a browser, maybe ask for a paste.

    ``show_link(url)`` displays the link and returns a function that withdraws it afterwards
    (so the saved notebook keeps no ``state``); ``ask_pasted(prompt)`` asks with a masked prompt
    (None where the front end cannot).
    """

    show_link: Callable[[str], Callable[[str], None]]
    ask_pasted: Callable[[str], str | None] | None = None
    paste: bool = False
    listen: str | None = None
    open_browser: bool = True
    wait: float = DEFAULT_WAIT
    browser: Callable[[str], bool] = webbrowser.open
    notice: Callable[[str], None] = print
    cancelled: Callable[[], bool] = lambda: False
    #: Said when the step starts (the browser policy's note), not before: a remembered JWT
    #: that is refreshed instead never gets this far.
    opening_note: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.wait, (int, float)) and 0 < self.wait <= MAX_WAIT):
            raise ConfigError(f"{{setting:wait}} must be a number of seconds from 0 to {MAX_WAIT:g}")

    def __call__(self, transport: Transport, request, secret: str) -> AccessToken:
        """Run the browser step for ``request`` and return the access token."""
        if self.opening_note:
            self.notice(self.opening_note)
        state = protocol.new_state()
        url = protocol.authorize_url(
            (request.login_base_url or request.base_url).rstrip("/"),
            request.client_id,
            request.redirect_uri,
            tuple(s for s in request.scopes if s != protocol.OFFLINE_ACCESS),
            state,
        )

        def exchange(answer: dict[str, str]) -> AccessToken:
            code = checked_code(answer, state)
            return protocol.exchange_code(
                transport, request.base_url, request.client_id, secret, code, request.redirect_uri, state
            )

        if self.paste:
            return exchange(self._pasted(url))
        with self._receiver(request.redirect_uri, state) as receiver:
            withdraw = self.show_link(url)
            try:
                if self.open_browser and not self.browser(url):
                    self.notice("No browser could be opened here: open the link above yourself.")
                answer = receiver.wait(self.wait, request.redirect_uri, self.cancelled)
            finally:
                withdraw(LINK_WITHDRAWN)
            try:
                token = exchange(answer)
            except BaseException:
                receiver.report(succeeded=False)
                raise
            receiver.report(succeeded=True)
            return token

    def _receiver(self, redirect_uri: str, state: str):
        """Where the browser's answer arrives: this kernel's Jupyter server, when the redirect
        URI is its callback page (and no --listen says otherwise), else the loopback listener."""
        from .server_return import ServerHandoff, is_server_callback, registration_hint

        if self.listen is None and is_server_callback(redirect_uri):
            self.notice("The browser comes back through this Jupyter server.")
            hint = registration_hint(redirect_uri)
            if hint not in _REGISTRATION_TOLD:
                _REGISTRATION_TOLD.add(hint)
                self.notice(hint)
            return ServerHandoff(state)
        host, port = listen_address(redirect_uri, self.listen)
        return CallbackListener(port, state, host)

    def _pasted(self, url: str) -> dict[str, str]:
        withdraw = self.show_link(url)
        try:
            prompt = "After authorizing, paste the address your browser ended on (hidden): "
            text = self.ask_pasted(prompt) if self.ask_pasted is not None else None
            if text is None:
                raise ConfigError("{setting:paste} needs a front end that can ask for input")
            return parse_pasted(text)
        finally:
            withdraw(LINK_WITHDRAWN)


def checked_code(answer: dict[str, str], state: str) -> str:
    """The code, once the answer's state is the one this login sent."""
    if answer.get("error") and not answer.get("code"):
        if answer["error"] == "access_denied":
            raise OAuthError("you declined the authorization on ItsYou.online; run the magic again to retry")
        raise OAuthError(f"ItsYou.online answered error {answer['error'][:40]!r}; run the magic again")
    if not hmac.compare_digest(answer.get("state", ""), state):
        raise OAuthError(
            "the answer does not belong to this login (its state differs): it is from an older "
            "or another link; use the newest link"
        )
    if not answer.get("code"):
        raise OAuthError("the answer holds no code; run the magic again")
    return answer["code"]
