"""The Jupyter server extension: ``{base_url}iyo/callback``, where the browser comes back from
ItsYou.online when the kernel runs under this server (JupyterHub, Binder, a remote JupyterLab)
and cannot be reached on its own 127.0.0.1.

The page answers only a browser logged in to this server, like every other Jupyter page (but
with a 403, not a redirect to the login page, whose ``?next=`` would carry the code): a
callback opened in someone else's browser reaches nothing. It hands ``code`` and ``state`` to
the kernel waiting for that state (``handoff``), once, waits to hear how the login ended, and
says so, repeating neither the code nor the state. It logs neither (jupyter_server scrubs both from its access log).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import time
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import PeriodicCallback

try:  # jupyter_server 2.13 and later
    from jupyter_server.auth.decorator import allow_unauthenticated
except ImportError:  # older ones have no ServerApp.allow_unauthenticated_access to lift

    def allow_unauthenticated(method):  # type: ignore[misc]
        return method


from ..browser import handoff
from ..browser.listener import REPORT_WAIT, answer_page
from . import public_address
from .save_guard import install as install_save_guard

#: How often the server checks that its marker is still there.
MARKER_CHECK_SECONDS = 3
NOT_LOGGED_IN = "This page belongs to a notebook server you are not logged in to."


class CallbackHandler(JupyterHandler):
    """``GET {base_url}iyo/callback?code=…&state=…``: the browser's way back to a waiting kernel."""

    @allow_unauthenticated  # it answers its own 403, whatever ServerApp.allow_unauthenticated_access says
    async def get(self) -> None:
        if not self.current_user:  # no redirect to a login page: its ?next= would carry the code
            return self._page(403, NOT_LOGGED_IN)
        folder = Path(self.settings["iyo_runtime_dir"])
        state = self.get_argument("state", "")
        code, error = self.get_argument("code", ""), self.get_argument("error", "")
        if not state or handoff.read(handoff.login_file(state, handoff.PENDING, folder)) is None:
            return self._page(400, "This is not a login that a notebook here is waiting for (it may have ended).")
        if not code and not error:
            return self._page(400, "The address holds no answer from ItsYou.online: log in again from the notebook.")
        answer = {"code": code, "error": error, "state": state}
        if not handoff.write_private(handoff.login_file(state, handoff.ANSWER, folder), answer, only_once=True):
            return self._page(409, "This login link was used already: log in again from the notebook.")
        outcome_file = handoff.login_file(state, handoff.OUTCOME, folder)
        deadline = time.monotonic() + REPORT_WAIT
        outcome = None
        while outcome is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            outcome = handoff.read(outcome_file)
        handoff.remove(outcome_file)
        self._page(200, ok=bool(outcome and outcome.get("succeeded")))

    def _page(self, status: int, text: str = "", ok: bool = False) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(answer_page(ok, text))


STANDIN_PATH = "iyo/standin"
STANDIN_COOKIE = "iyo_session"  # the stand-in's login session (iyo_magic.server.iyo_server)
#: What passes between the browser and the stand-in, each way.
_TO_STANDIN = ("Content-Type", "Cookie", "Accept")
_FROM_STANDIN = ("Content-Type", "Location", "Cache-Control")


class StandinProxyHandler(JupyterHandler):
    """``{base_url}iyo/standin/…``: the local ItsYou.online stand-in's login and consent pages,
    for a browser that can reach nothing but this server (a Binder visitor). Active only where
    the server was started with ``IYO_STANDIN_URL`` (binder/start sets it); the stand-in serves
    under the same path (``iyo-magic serve --prefix``), and is told the browser's address."""

    def check_xsrf_cookie(self) -> None:
        """The stand-in's own forms post here; they carry no Jupyter XSRF token (and need none:
        the stand-in is a demo server with its own session)."""

    @allow_unauthenticated  # _forward answers its own 403
    async def get(self, path: str = "") -> None:
        await self._forward()

    @allow_unauthenticated
    async def post(self, path: str = "") -> None:
        await self._forward()

    async def _forward(self) -> None:
        from tornado.httpclient import AsyncHTTPClient, HTTPClientError

        if not self.current_user:  # no redirect to a login page: its ?next= would carry the state
            raise web.HTTPError(403, NOT_LOGGED_IN)

        standin = os.environ.get("IYO_STANDIN_URL", "").rstrip("/")
        if not standin:
            raise web.HTTPError(404)
        headers = {name: self.request.headers[name] for name in _TO_STANDIN if name in self.request.headers}
        # Only the stand-in's own session cookie goes to it; never the Jupyter login's.
        own = [c.strip() for c in headers.pop("Cookie", "").split(";") if c.strip().startswith(STANDIN_COOKIE + "=")]
        if own:
            headers["Cookie"] = "; ".join(own)
        # The address the kernel's redirect URI was built on (never one a request may choose).
        scheme, _, host = self.settings["iyo_server_marker"].origin().partition("://")
        headers.update({"X-Forwarded-Host": host, "X-Forwarded-Proto": scheme})
        # Jupyter's own login token (a browser's ?token=) is not the stand-in's business.
        query = urlencode([(k, v) for k, v in parse_qsl(self.request.query, keep_blank_values=True) if k != "token"])
        try:
            answer = await AsyncHTTPClient().fetch(
                standin + self.request.path + (f"?{query}" if query else ""),
                method=self.request.method,
                headers=headers,
                body=self.request.body if self.request.method == "POST" else None,
                follow_redirects=False,
                raise_error=False,
                request_timeout=30,
            )
        except (OSError, HTTPClientError):
            raise web.HTTPError(502, "the ItsYou.online stand-in does not answer") from None
        self.set_status(answer.code)
        for name in _FROM_STANDIN:
            if name in answer.headers:
                self.set_header(name, answer.headers.get_list(name)[0])
        self._pass_session_cookie(answer.headers.get_list("Set-Cookie"))
        self.finish(answer.body or b"")

    def _pass_session_cookie(self, set_cookies: list[str]) -> None:
        """Only the stand-in's own session cookie goes back to the browser, and only for the
        proxy's path: no other cookie of this origin (the Jupyter login's, ``_xsrf``) is its to set."""
        for header in set_cookies:
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(header)
            except CookieError:
                continue
            if STANDIN_COOKIE in cookie:
                path = url_path_join(self.base_url, STANDIN_PATH)
                secure = self.request.protocol == "https"
                self.set_cookie(
                    STANDIN_COOKIE,
                    cookie[STANDIN_COOKIE].value,
                    path=path,
                    httponly=True,
                    samesite="Lax",
                    secure=secure,
                )


class ServerMarker:
    """``iyo-server-<id>.json``: tells this server's kernels that the callback page exists, where
    (``base_url``), and at which address browsers reach the server (``origin``, see
    ``public_address``) and how that address was learnt (``origin_from``). The id is random and put in the server's
    environment before any kernel starts (``$IYO_SERVER_ID``), so only its own kernels find it.
    A marker deleted or changed behind the server's back is written again (`ensure`)."""

    def __init__(self, serverapp) -> None:
        server_id = os.environ[handoff.SERVER_ID_ENV] = handoff.new_server_id()
        self.path = handoff.server_file(server_id, Path(serverapp.runtime_dir))
        self.base_url = serverapp.web_app.settings["base_url"]
        self.proxies = public_address.trusted_proxies()
        origin = public_address.configured_origin()
        self.configured = bool(origin)
        self.data = {
            "base_url": self.base_url,
            "url": serverapp.connection_url,
            "origin": origin,
            "origin_from": public_address.CONFIGURED if origin else "",
        }
        handoff.write_private(self.path, self.data)
        atexit.register(handoff.remove, self.path)
        PeriodicCallback(self.ensure, MARKER_CHECK_SECONDS * 1000).start()

    def ensure(self) -> None:
        """Write the marker again if it is missing, or is not what this server wrote."""
        if handoff.read(self.path) != self.data:
            handoff.write_private(self.path, self.data)

    def note(self, handler) -> None:
        """Remember the address of a successful request to this server's API that its owner's
        browser made (never an OPTIONS, a redirect, an error or an anonymous request), unless an
        address is configured; and check the marker is there."""
        request = handler.request
        if (
            not 200 <= handler.get_status() < 300
            or request.method == "OPTIONS"
            or not request.path.startswith(url_path_join(self.base_url, "api/"))
            or not is_owner(handler.current_user)
        ):
            return
        origin = "" if self.configured else public_address.request_origin(request, self.proxies)
        if origin:
            self.data.update(origin=origin, origin_from=public_address.BROWSER)
        self.ensure()

    def origin(self) -> str:
        """The address the kernels build the redirect URI on: the public one, else the server's own."""
        parts = urlsplit(self.data["url"])
        return self.data["origin"] or f"{parts.scheme}://{parts.netloc}"


def is_owner(user) -> bool:
    """Whether ``user`` (a handler's ``current_user``) owns this server: on JupyterHub the user
    named ``$JUPYTERHUB_USER`` (not an admin or a user the owner shares the server with);
    elsewhere any authenticated user."""
    if not user:
        return False
    owner = os.environ.get("JUPYTERHUB_USER")
    if not owner:
        return True
    name = user.get("name") if isinstance(user, dict) else getattr(user, "username", getattr(user, "name", user))
    return name == owner


def _load_jupyter_server_extension(serverapp) -> None:
    web_app = serverapp.web_app
    web_app.settings["iyo_runtime_dir"] = serverapp.runtime_dir
    route = url_path_join(web_app.settings["base_url"], handoff.CALLBACK_PATH)
    standin = url_path_join(web_app.settings["base_url"], STANDIN_PATH)
    web_app.add_handlers(".*$", [(route, CallbackHandler), (standin + "(/.*)?", StandinProxyHandler)])
    marker = web_app.settings["iyo_server_marker"] = ServerMarker(serverapp)
    logged = web_app.settings.get("log_function")

    def log_and_note(handler) -> None:
        if logged is not None:
            logged(handler)
        marker.note(handler)

    web_app.settings["log_function"] = log_and_note
    serverapp.log.info("iyo_magic: the Authorization Code flow returns through %s", route)
    install_save_guard(serverapp)
