"""The browser's way back to the kernel: a one-shot loopback listener, or a pasted URL.

`CallbackListener` binds 127.0.0.1 only, answers the first request that carries the OAuth
answer (``code``/``error``/``state``) with a friendly page that repeats none of it, and stops.
It never logs a request line (the query holds the code). `parse_pasted` reads what a user on a
remote kernel copies from the browser's address bar: the whole URL or just its query.
"""

from __future__ import annotations

import hmac
import http.server
import threading
import time
from html import escape
from urllib.parse import parse_qs, urlsplit

from ..errors import Cancelled, ConfigError, NoAnswer, PortInUse
from ..oauth.url_policy import is_loopback_host

LISTEN_HOST = "127.0.0.1"
ANSWER_FIELDS = ("code", "error", "state")
#: Seconds a connection may stay idle before the listener drops it.
REQUEST_TIMEOUT = 5.0
#: Seconds the browser's page waits to learn whether the code exchange succeeded.
REPORT_WAIT = 15.0
#: How often the wait looks at Cancel and the deadline.
POLL_SECONDS = 0.05

_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
    "<body style='font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto'>"
    "<h1 style='font-size:1.3rem'>{title}</h1><p>{text}</p></body></html>"
)


def answer_page(ok: bool, text: str = "") -> bytes:
    if ok:
        title, text = "Signed in", text or "The notebook has its tokens. You can close this tab and return to it."
    else:
        title, text = "Not signed in", text or "The notebook shows what went wrong. You can close this tab."
    return _PAGE.format(title=escape(title), text=escape(text)).encode()


def parse_query(query: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items() if k in ANSWER_FIELDS}


def parse_pasted(text: str) -> dict[str, str]:
    """The OAuth answer in a pasted redirect URL (or its query); `ConfigError` if there is none."""
    text = (text or "").strip()
    query = urlsplit(text).query if "://" in text else text.split("?", 1)[-1]
    answer = parse_query(query.split("#", 1)[0])
    if "code" not in answer and "error" not in answer:
        raise ConfigError(
            "the pasted text holds no code: copy the whole address of the page your browser "
            "ended on after you authorized (it contains code=...)"
        )
    return answer


def listen_address(redirect_uri: str, listen: str | None) -> tuple[str, int]:
    """Where to listen: ``--listen [HOST:]PORT``, else the redirect URI's own loopback port."""
    if listen:
        host, _, port = listen.rpartition(":")
        host = host or LISTEN_HOST
        if not is_loopback_host(host):
            raise ConfigError("{setting:listen}: the listener binds loopback addresses only (PORT or 127.0.0.1:PORT)")
        return LISTEN_HOST, checked_port(port, "{setting:listen}")
    parts = urlsplit(redirect_uri)
    if not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"the redirect URI {redirect_uri} is not on this machine: choose the port to listen on "
            "with {setting:listen} for a proxied redirect URI (e.g. through jupyter-server-proxy), or {setting:paste}"
        )
    try:
        number = parts.port or 80
    except ValueError:  # urllib's own check: out of range or not a number
        number = -1
    return LISTEN_HOST, checked_port(str(number), "the redirect URI's port")


def checked_port(text: str, what: str) -> int:
    """A TCP port number (1–65535), or a `ConfigError` that names ``what``."""
    if not text.strip().isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"{what}: expected a port number from 1 to 65535")
    return int(text)


class CallbackListener:
    """Waits on 127.0.0.1:port for the redirect that carries this login's ``state``; a context
    manager, so the port is always released.

    Requests are served in their own threads, so an idle or slow connection (a local process, a
    browser's speculative pre-connection) never blocks the wait, the deadline or Cancel. A request
    whose ``state`` is not this login's is answered 400 and ignored. The matching request's page
    waits for `report`, so the browser is told whether the login really succeeded.
    """

    def __init__(self, port: int, expected_state: str, host: str = LISTEN_HOST) -> None:
        listener = self
        self.answer: dict[str, str] | None = None
        self._answered = threading.Event()
        self._reported = threading.Event()
        self._succeeded = False

        class Handler(http.server.BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT  # an idle connection is dropped, never waited on

            def do_GET(self) -> None:  # the http.server name
                answer = parse_query(urlsplit(self.path).query)
                if listener._answered.is_set() or not hmac.compare_digest(answer.get("state", ""), expected_state):
                    self._page(400, answer_page(False, "This is not the answer the notebook is waiting for."))
                    return
                listener.answer = answer
                listener._answered.set()
                listener._reported.wait(REPORT_WAIT)
                self._page(200, answer_page(listener._succeeded))

            def _page(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                """Never log: the request line holds the code."""

        try:
            self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        except OSError:
            raise PortInUse(port) from None
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(POLL_SECONDS,), name="iyo-callback", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float, redirect_uri: str, cancelled=lambda: False) -> dict[str, str]:
        """Until this login's answer arrives; ``cancelled()`` and Ctrl+C (the kernel's stop
        button) interrupt within a fraction of a second, and the deadline is kept whatever the
        connections do."""
        deadline = time.monotonic() + timeout
        while not self._answered.wait(POLL_SECONDS):
            if cancelled():
                raise Cancelled("cancelled")
            if time.monotonic() >= deadline:
                raise NoAnswer(timeout, redirect_uri)
        return self.answer or {}

    def report(self, succeeded: bool) -> None:
        """Tell the waiting browser page how the login ended."""
        self._succeeded = succeeded
        self._reported.set()

    def close(self) -> None:
        self._reported.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> CallbackListener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
