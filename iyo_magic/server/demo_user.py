"""A demo user who plays the browser on the stand-in's login and consent pages.

For training notebooks and tests, where no person is there to click: ``play_user("alice")``
registers a browser with Python's `webbrowser` module; point the magic at it with
``%config IyoMagics.browser = "iyo-demo-user"`` and the Authorization Code flow runs unattended.
`a_visitor_clicks` says when a person is there instead (a Binder visitor).
It only ever visits loopback addresses (the stand-ins).
"""

from __future__ import annotations

import http.cookiejar
import os
import threading
import urllib.error
import urllib.request
import webbrowser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from ..oauth.url_policy import is_loopback_host
from .accounts import DEMO

BROWSER_NAME = "iyo-demo-user"


class DemoUser(webbrowser.BaseBrowser):
    """Logs in as ``username`` and answers the consent page with ``decision``."""

    def __init__(self, username: str, password: str, decision: str = "authorize", follow: bool = True):
        super().__init__(BROWSER_NAME)
        self.username, self.password, self.decision, self.follow = username, password, decision, follow
        self.landed_on = ""  # the address the browser ends on (what a user would paste)
        self.page = ""  # what the page at that address showed
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def visit(self, url: str) -> None:
        """Open ``url`` and go through login and consent to the redirect URI.

        It speaks HTTP through urllib, which logs nothing: the addresses it follows hold the
        code and state, which must not reach the notebook's logs.
        """
        if not is_loopback_host(urlsplit(url).hostname):
            raise ValueError("the demo user only visits the local stand-ins")
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )
        server = url.split("/v1/", 1)[0]
        status, location = _send(browser, url)
        for _ in range(10):
            if status != 302:
                raise RuntimeError(f"ItsYou.online answered {status} instead of a redirect")
            location = urljoin(url, location)
            if not location.startswith(server + "/"):  # /services/iyo-broker/ is not /services/iyo/
                self.landed_on = location
                if self.follow:
                    with urllib.request.urlopen(location, timeout=10) as page:  # noqa: S310 - loopback only
                        self.page = page.read().decode()
                return
            fields = dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
            path = urlsplit(location).path[len(urlsplit(server).path) :]  # under a proxy's prefix, too
            if path == "/login":
                fields.update(username=self.username, password=self.password)
                status, location = _send(browser, server + "/login", fields)
            elif path == "/authorize":
                fields["decision"] = self.decision
                status, location = _send(browser, server + "/authorize", fields)
            else:
                status, location = _send(browser, location)
        raise RuntimeError("too many redirects")

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        """As a real browser launcher: start, and return at once."""

        def run() -> None:
            try:
                self.visit(url)
            except Exception as exc:  # kept for whoever inspects the demo user
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True, name=BROWSER_NAME)
        self.thread.start()
        return True


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the demo user follows each redirect itself


def _send(browser, url: str, form: dict | None = None) -> tuple[int, str]:
    """GET (or POST ``form``); returns the status and the Location header."""
    data = urlencode(form).encode() if form is not None else None
    try:
        with browser.open(url, data=data, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as answer:  # 302 and errors arrive here without redirects
        with answer:
            return answer.code, answer.headers.get("Location", "")


def a_visitor_clicks() -> bool:
    """Whether a person will click the login link: on Binder (``binder/start`` sets
    IYO_LOGIN_BASE_URL), in a kernel its Jupyter server started. Run headless (nbclient,
    nbconvert, papermill, nbval, a Binder repository's CI), there is no one to click."""
    from ..browser.server_return import under_jupyter_server

    return bool(os.environ.get("IYO_LOGIN_BASE_URL", "").strip()) and under_jupyter_server()


def play_user(username: str = "alice", decision: str = "authorize") -> DemoUser:
    """Register a demo user of the built-in accounts as the browser named ``iyo-demo-user``."""
    users = {user["username"]: user for user in DEMO["users"]}
    if username not in users:
        raise ValueError(f"no demo user {username!r}; the demo users are {', '.join(users)}")
    user = DemoUser(username, users[username]["password"], decision)
    webbrowser.register(BROWSER_NAME, None, user)
    return user
