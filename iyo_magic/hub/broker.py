"""The class's login broker: a JupyterHub service that runs the Authorization Code flow for the
users' kernels, so that the class's secret stays here (``configure_class(..., hub_login=False)``).

1. A user's kernel asks to start a login (``POST logins``, authenticated by the server's
   ``$JUPYTERHUB_API_TOKEN``): the login is bound to that hub user; the kernel shows the link
   ``start/<id>``.
2. The browser opens it (logged in to the hub, as that same user, or it is refused) and is sent
   to ItsYou.online with the login's ``state`` and the broker's one registered callback.
3. ItsYou.online sends the browser back to ``callback``: the broker checks that the browser's hub
   user is the one who started that ``state`` (else it exchanges nothing), exchanges the code with
   the secret it alone holds, and keeps the access token for that login.
4. The kernel collects it (``GET logins/<id>``, the same hub user), once, and asks ItsYou.online
   for its JWT itself. The broker keeps nothing after that (logins expire after 10 minutes).

Run by the hub: ``python -m iyo_magic.hub.broker`` (its settings in its environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated, UserNotAllowed
from tornado import web
from tornado.ioloop import IOLoop

from ..browser.listener import answer_page
from ..errors import IyoError
from ..oauth import protocol
from ..oauth.transport import Transport

log = logging.getLogger("iyo_magic.broker")

#: A login not finished (or not collected) within this is forgotten.
LOGIN_LIFETIME = 600.0
#: The longest a kernel's ``GET logins/<id>`` waits for the answer before saying "pending".
LONGEST_POLL = 10.0
#: Code exchanges running at once (each waits on ItsYou.online). The IOLoop's default executor
#: has cores + 4 threads: with ItsYou.online 0.3 s away, a class's 200 callbacks would wait
#: longer for a thread than a code lives (10 s).
EXCHANGES_AT_ONCE = 64
#: Connections waiting to be accepted: a class's kernels and browsers arrive at once, and
#: tornado's default (128) drops the rest, whose retries come 1, 3, 7 s later.
LISTEN_BACKLOG = 1024
#: A hub user's logins in progress at once: a new one beyond this ends their oldest.
LOGINS_PER_USER = 5
#: The longest scope list a kernel may ask for, and the largest request body.
MAX_SCOPE_TEXT = 2000
MAX_BODY_BYTES = 64 * 1024


@dataclass
class Login:
    owner: str
    scopes: tuple[str, ...]
    state: str = field(default_factory=protocol.new_state)
    id: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    created: float = field(default_factory=time.monotonic)
    outcome: dict | None = None
    #: True once a callback for it was taken up: any other callback with its state is refused.
    answered: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def finish(self, outcome: dict) -> None:
        self.outcome = outcome
        self.done.set()


@dataclass
class Broker:
    """The broker's settings and its logins in progress (in memory: a restart forgets them)."""

    base_url: str
    login_base_url: str
    client_id: str
    secret: str
    callback: str
    timeout: float = 10.0
    logins: dict[str, Login] = field(default_factory=dict)
    exchanges: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(EXCHANGES_AT_ONCE, thread_name_prefix="iyo-exchange")
    )

    states: dict[str, Login] = field(default_factory=dict)

    def start(self, owner: str, scopes: tuple[str, ...]) -> Login:
        self.sweep()
        mine = [x for x in self.logins.values() if x.owner == owner]
        for old in mine[: max(0, len(mine) - LOGINS_PER_USER + 1)]:
            self.forget(old)
        login = Login(owner, scopes)
        self.logins[login.id] = self.states[login.state] = login
        return login

    def by_state(self, state: str) -> Login | None:
        return self.states.get(state)

    def forget(self, login: Login) -> None:
        self.logins.pop(login.id, None)
        self.states.pop(login.state, None)

    def sweep(self) -> None:
        now = time.monotonic()
        for login in [x for x in self.logins.values() if now - x.created > LOGIN_LIFETIME]:
            self.forget(login)

    def authorize_url(self, login: Login) -> str:
        return protocol.authorize_url(self.login_base_url, self.client_id, self.callback, login.scopes, login.state)

    def exchange(self, code: str, state: str) -> dict:
        """The code for an access token (blocking: runs in a thread), as the kernel gets it."""
        token = protocol.exchange_code(
            Transport(timeout=self.timeout), self.base_url, self.client_id, self.secret, code, self.callback, state
        )
        return {
            "status": "done",
            "access_token": token.reveal(),
            "scope": ",".join(token.scope),
            "expires_in": int(token.expires_in),
            "info": {"username": token.username},
        }


class _HubUser(HubOAuthenticated, web.RequestHandler):
    """Who is asking, as the hub says (a cookie from the hub's login, or a hub API token)."""

    @property
    def broker(self) -> Broker:
        return self.settings["iyo_broker"]

    async def prepare(self) -> None:
        model = await self.hub_auth.get_user(self, sync=False)
        try:
            self.current_user = self.check_hub_user(model) if model else None
        except UserNotAllowed:
            self.current_user = None

    @property
    def user_name(self) -> str:
        return (self.current_user or {}).get("name", "")

    def page(self, status: int, text: str, ok: bool = False) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(answer_page(ok, text))

    def answer(self, status: int, body: dict) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class _KernelApi(_HubUser):
    """What a user's kernel calls, with its server's hub API token (never a browser's cookie)."""

    def kernel_user(self) -> str:
        if not self.current_user or not getattr(self, "_token_authenticated", False):
            raise web.HTTPError(403, "the broker answers kernels with their server's hub API token")
        return self.user_name

    def write_error(self, status_code: int, **kwargs) -> None:
        reason = kwargs.get("exc_info", (None, None))[1]
        message = getattr(reason, "log_message", None) or self._reason
        self.answer(status_code, {"status": "failed", "error": message})


class StartLogins(_KernelApi):
    """``POST logins`` (form: ``scope``): a new login bound to the asking hub user."""

    def post(self) -> None:
        owner = self.kernel_user()
        text = self.get_body_argument("scope", "")
        if len(text) > MAX_SCOPE_TEXT:
            raise web.HTTPError(400, "too many scopes")
        scopes = protocol.split_scopes(text)
        login = self.broker.start(owner, tuple(s for s in scopes if s != protocol.OFFLINE_ACCESS))
        prefix = self.settings["iyo_prefix"]
        public = self.settings["iyo_public_prefix"]
        log.info("login started for hub user %s", owner)
        self.answer(201, {"id": login.id, "link": f"{public}start/{login.id}", "path": f"{prefix}start/{login.id}"})


class CollectLogin(_KernelApi):
    """``GET logins/<id>?wait=SECONDS``: the login's outcome, once, to the hub user who started it."""

    async def get(self, login_id: str) -> None:
        owner = self.kernel_user()
        try:
            wait = float(self.get_argument("wait", "0") or 0)
        except ValueError:
            wait = math.nan
        if not math.isfinite(wait) or wait < 0:
            raise web.HTTPError(400, "wait is a number of seconds")
        wait = min(wait, LONGEST_POLL)
        login = self.broker.logins.get(login_id)
        if login is None or not hmac.compare_digest(login.owner, owner):
            return self.answer(404, {"status": "failed", "error": "no such login (it may have expired): log in again"})
        if login.outcome is None and wait:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(login.done.wait(), wait)
        if login.outcome is None:
            return self.answer(200, {"status": "pending"})
        self.broker.forget(login)  # collected once
        self.answer(200, login.outcome)


class StartInBrowser(_HubUser):
    """``GET start/<id>``: the link the kernel shows. The browser must be the hub user who
    started the login; it is then sent to ItsYou.online."""

    @web.authenticated  # a browser not logged in to the hub logs in first (nothing secret in this URL)
    def get(self, login_id: str) -> None:
        login = self.broker.logins.get(login_id)
        if login is None or login.outcome is not None:
            return self.page(404, "This login has ended or expired: run the login in your notebook again.")
        if not hmac.compare_digest(login.owner, self.user_name):
            log.warning("hub user %s opened a login of another hub user; refused", self.user_name)
            return self.page(403, "This login link belongs to another hub user. Nothing was done.")
        self.set_header("Cache-Control", "no-store")
        self.redirect(self.broker.authorize_url(login))


#: What the kernel hears when its login's answer came back in the wrong browser.
REFUSED = {
    "status": "failed",
    "error": "the login's answer came back in another browser, and was refused: run the magic again",
}


class Callback(_HubUser):
    """``GET callback?code=…&state=…``: where ItsYou.online sends the browser back."""

    async def get(self) -> None:
        # ItsYou.online appends "&code=…&state=…" to the registered "…/callback?"
        answer = dict(parse_qsl(urlsplit(self.request.uri).query.lstrip("&?"), keep_blank_values=True))
        login = self.broker.by_state(answer.get("state", ""))
        if login is None or login.outcome is not None or login.answered:
            return self.page(400, "This is not a login the class is waiting for (it may have ended).")
        login.answered = True
        # From here on the state counts once: a callback that does not finish its owner's login
        # ends it, so that what this browser was sent (a code, for that state) cannot be replayed
        # in the owner's own browser.
        if not self.current_user:  # never a redirect to a login page: it would carry the code along
            login.finish(REFUSED)
            return self.page(403, "Log in to the hub first, then run the login in your notebook again.")
        if not hmac.compare_digest(login.owner, self.user_name):
            log.warning(
                "a callback for hub user %s came in hub user %s's browser; refused", login.owner, self.user_name
            )
            login.finish(REFUSED)
            return self.page(403, "This login was started by another hub user. Nothing was done with it.")
        if answer.get("error") and not answer.get("code"):
            declined = answer["error"] == "access_denied"
            login.finish({"status": "failed", "error": "declined" if declined else answer["error"][:40]})
            return self.page(200, "You declined: nothing was shared. You can close this tab.")
        try:
            outcome = await IOLoop.current().run_in_executor(
                self.broker.exchanges, self.broker.exchange, answer.get("code", ""), login.state
            )
        except IyoError as error:
            login.finish({"status": "failed", "error": str(error)})
            return self.page(502, "ItsYou.online refused the login; the notebook says why.")
        login.finish(outcome)
        log.info("login of hub user %s finished", login.owner)
        self.page(200, "Signed in: your notebook has your login. You can close this tab.", ok=True)


def log_without_query(handler: web.RequestHandler) -> None:
    """The access log, without query strings: they hold codes and states."""
    request = handler.request
    took = 1000.0 * request.request_time()
    logging.getLogger("tornado.access").info(
        "%d %s %s %.1fms", handler.get_status(), request.method, request.path, took
    )


def make_app(broker: Broker, prefix: str, public_prefix: str) -> web.Application:
    prefix = prefix.rstrip("/") + "/"
    return web.Application(
        [
            (f"{prefix}logins", StartLogins),
            (f"{prefix}logins/([A-Za-z0-9_-]+)", CollectLogin),
            (f"{prefix}start/([A-Za-z0-9_-]+)", StartInBrowser),
            (f"{prefix}callback", Callback),
            (f"{prefix}oauth_callback", HubOAuthCallbackHandler),
        ],
        cookie_secret=secrets.token_bytes(32),
        log_function=log_without_query,
        hub_auth=HubOAuth(cache_max_age=60),
        iyo_broker=broker,
        iyo_prefix=prefix,
        iyo_public_prefix=public_prefix,
    )


def main() -> None:
    """Run as the hub starts it: settings from the environment the hub and configure_class give."""
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s %(asctime)s %(name)s] %(message)s")
    callback = os.environ["IYO_BROKER_CALLBACK"]
    broker = Broker(
        base_url=os.environ["IYO_BASE_URL"].rstrip("/"),
        login_base_url=os.environ.get("IYO_LOGIN_BASE_URL", os.environ["IYO_BASE_URL"]).rstrip("/"),
        client_id=os.environ["IYO_CLIENT_ID"],
        secret=os.environ.pop("IYO_CLIENT_SECRET"),
        callback=callback,
    )
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/iyo-broker/")
    public_prefix = callback.rsplit("callback?", 1)[0]
    bind = urlsplit(os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:8979"))
    app = make_app(broker, prefix, public_prefix)
    app.listen(
        bind.port or 8979,
        bind.hostname or "127.0.0.1",
        xheaders=False,
        backlog=LISTEN_BACKLOG,
        max_body_size=MAX_BODY_BYTES,
    )
    log.info("the class's login broker for %s listens on %s", broker.client_id, bind.geturl())
    with contextlib.suppress(KeyboardInterrupt):  # the hub stops its services with SIGINT
        IOLoop.current().start()


if __name__ == "__main__":
    main()
