"""A demo user who plays the browser on the stand-in's login and consent pages.

For training notebooks and tests, where no person is there to click: ``play_user("alice")``
registers a browser with Python's `webbrowser` module; point the magic at it with
``%config IyoMagics.browser = "iyo-demo-user"`` and the Authorization Code flow runs unattended.
It only ever visits loopback addresses (the stand-ins).
"""

from __future__ import annotations

import threading
import webbrowser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

from ..transport import is_loopback_host
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
        """Open ``url`` and go through login and consent to the redirect URI."""
        if not is_loopback_host(urlsplit(url).hostname):
            raise ValueError("the demo user only visits the local stand-ins")
        session = requests.Session()
        response = session.get(url, allow_redirects=False, timeout=10)
        server = url.split("/v1/", 1)[0]
        for _ in range(10):
            if response.status_code != 302:
                raise RuntimeError(f"ItsYou.online answered {response.status_code}: {response.text.strip()[:60]}")
            location = urljoin(url, response.headers["Location"])
            if not location.startswith(server):
                self.landed_on = location
                if self.follow:
                    self.page = requests.get(location, timeout=10).text
                return
            fields = dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
            path = urlsplit(location).path
            if path == "/login":
                fields.update(username=self.username, password=self.password)
                response = session.post(urljoin(url, "/login"), data=fields, allow_redirects=False, timeout=10)
            elif path == "/authorize":
                fields["decision"] = self.decision
                response = session.post(urljoin(url, "/authorize"), data=fields, allow_redirects=False, timeout=10)
            else:
                response = session.get(location, allow_redirects=False, timeout=10)
        raise RuntimeError("too many redirects")

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        """As a real browser launcher: start, and return at once."""

        def run() -> None:
            try:
                self.visit(url)
            except Exception as exc:  # noqa: BLE001 - kept for whoever inspects the demo user
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True, name=BROWSER_NAME)
        self.thread.start()
        return True


def play_user(username: str = "alice", decision: str = "authorize") -> DemoUser:
    """Register a demo user of the built-in accounts as the browser named ``iyo-demo-user``."""
    users = {user["username"]: user for user in DEMO["users"]}
    if username not in users:
        raise ValueError(f"no demo user {username!r}; the demo users are {', '.join(users)}")
    user = DemoUser(username, users[username]["password"], decision)
    webbrowser.register(BROWSER_NAME, None, user)
    return user
