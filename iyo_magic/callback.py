"""The browser's way back to the kernel: a one-shot loopback listener, or a pasted URL.

`CallbackListener` binds 127.0.0.1 only, answers the first request that carries the OAuth
answer (``code``/``error``/``state``) with a friendly page that repeats none of it, and stops.
It never logs a request line (the query holds the code). `parse_pasted` reads what a user on a
remote kernel copies from the browser's address bar: the whole URL or just its query.
"""

from __future__ import annotations

import http.server
import time
from html import escape
from urllib.parse import parse_qs, urlsplit

from .errors import Cancelled, ConfigError, OAuthError
from .transport import is_loopback_host

LISTEN_HOST = "127.0.0.1"
ANSWER_FIELDS = ("code", "error", "state")

_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
    "<body style='font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto'>"
    "<h1 style='font-size:1.3rem'>{title}</h1><p>{text}</p></body></html>"
)


def answer_page(ok: bool) -> bytes:
    if ok:
        title, text = "Signed in", "iyo_magic received the answer. You can close this tab and return to the notebook."
    else:
        title, text = "Not signed in", "The notebook shows what went wrong. You can close this tab."
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
            raise ConfigError("--listen: the listener binds loopback addresses only (use PORT or 127.0.0.1:PORT)")
        try:
            return LISTEN_HOST, int(port)
        except ValueError:
            raise ConfigError("--listen: expected PORT or 127.0.0.1:PORT") from None
    parts = urlsplit(redirect_uri)
    if not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"the redirect URI {redirect_uri} is not on this machine: use --listen PORT for a "
            "proxied redirect URI (e.g. through jupyter-server-proxy), or --paste"
        )
    return LISTEN_HOST, parts.port or 80


class CallbackListener:
    """One answer on 127.0.0.1:port; a context manager so the port is always released."""

    def __init__(self, port: int, host: str = LISTEN_HOST) -> None:
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                answer = parse_query(urlsplit(self.path).query)
                if not answer:
                    self.send_error(404, "Not the OAuth callback")
                    return
                listener.answer = answer
                body = answer_page("code" in answer)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                """Never log: the request line holds the code."""

        self.answer: dict[str, str] | None = None
        try:
            self.server = http.server.HTTPServer((host, port), Handler)
        except OSError:
            raise ConfigError(
                f"port {port} is in use (another login still waiting?); stop it, or pass "
                "--listen PORT with a redirect URI registered for that port"
            ) from None
        self.server.timeout = 0.2
        self.port = self.server.server_address[1]

    def wait(self, timeout: float, redirect_uri: str, cancelled=lambda: False) -> dict[str, str]:
        """Serve until the answer arrives; Ctrl+C (the kernel's stop button) or ``cancelled()``
        interrupts."""
        deadline = time.monotonic() + timeout
        while self.answer is None:
            if cancelled():
                raise Cancelled("cancelled")
            if time.monotonic() >= deadline:
                raise OAuthError(
                    f"no answer from the browser within {timeout:g} s. If ItsYou.online showed "
                    f"'Bad Request', the redirect URI {redirect_uri} is not registered as a callback "
                    "URL of the API key; else log in and authorize sooner, or raise --wait"
                )
            self.server.handle_request()
        return self.answer

    def close(self) -> None:
        self.server.server_close()

    def __enter__(self) -> CallbackListener:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
