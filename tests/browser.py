"""A test client that plays the user's browser on the stand-in's login and consent pages."""

from __future__ import annotations

import threading
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests


class FakeBrowser:
    def __init__(self, username: str, password: str, decision: str = "authorize", follow: bool = True):
        self.username, self.password, self.decision, self.follow = username, password, decision, follow
        self.landed_on = ""  # the address the browser ends on (what a user would paste)
        self.page = ""  # what the callback page showed
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def visit(self, url: str) -> None:
        session = requests.Session()
        response = session.get(url, allow_redirects=False, timeout=10)
        for _ in range(10):
            location = urljoin(url, response.headers.get("Location", ""))
            if response.status_code != 302:
                raise AssertionError(f"browser stuck at {response.status_code}: {response.text[:80]}")
            if location.startswith(url.split("/v1/")[0]):
                fields = dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
                if "/login?" in location:
                    fields.update(username=self.username, password=self.password)
                    response = session.post(urljoin(url, "/login"), data=fields, allow_redirects=False, timeout=10)
                    continue
                if "/authorize?" in location and "/v1/oauth/" not in location:
                    fields["decision"] = self.decision
                    response = session.post(urljoin(url, "/authorize"), data=fields, allow_redirects=False, timeout=10)
                    continue
                response = session.get(location, allow_redirects=False, timeout=10)
                continue
            self.landed_on = location
            if self.follow:
                self.page = requests.get(location, timeout=10).text
            return
        raise AssertionError("too many redirects")

    def open(self, url: str) -> bool:
        """What `webbrowser.open` does: start the browser and return at once."""

        def run():
            try:
                self.visit(url)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return True
