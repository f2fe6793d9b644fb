"""The kernel's side of the return through its Jupyter server (see ``jupyter.extension``).

When the kernel runs under a Jupyter server that has the extension (its ``IYO_SERVER_ID``,
inherited from the server, names a server that left an ``iyo-server-<id>.json``), the
Authorization Code flow sends the browser back to ``{the server's public address}{base_url}iyo/callback?``:
the page the user's browser can reach on JupyterHub, on Binder and locally. `ServerHandoff` then waits for the
answer the page hands over, as the loopback listener does.
"""

from __future__ import annotations

import hmac
import os
import time
from urllib.parse import urlsplit

from ..errors import Cancelled, NoAnswer
from . import handoff

POLL_SECONDS = 0.05


def _server() -> dict | None:
    """The marker of the Jupyter server this kernel runs under, if it has the extension."""
    server_id = os.environ.get(handoff.SERVER_ID_ENV, "")
    if not handoff.SERVER_ID.fullmatch(server_id):
        return None
    try:
        return handoff.read(handoff.server_file(server_id))
    except ImportError:  # no jupyter_core: not under a Jupyter server
        return None


def under_jupyter_server() -> bool:
    """Whether this kernel runs under a Jupyter server that has the extension (a notebook page
    may be open in a browser); False under nbclient, nbconvert, papermill and nbval."""
    return _server() is not None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _public_origin(server: dict) -> tuple[str, str]:
    """Where browsers reach the server, and how the server learnt it (see ``jupyter.public_address``)."""
    if server.get("origin"):
        return str(server["origin"]), str(server.get("origin_from", ""))
    return _origin(server.get("url", "")), "server"


def server_callback() -> str | None:
    """The redirect URI through this kernel's Jupyter server, or None when there is no such way.

    It ends in ``?``: ItsYou.online admits any redirect URI that starts with the registered one,
    so whatever is appended to this one lands in the query, never in the path (no other user's
    server, no dot segments); ItsYou.online then adds ``&code=…&state=…``. The public address is
    the configured one, else the one the owner's browser uses, else the server's own."""
    server = _server()
    if server is None:
        return None
    origin, _ = _public_origin(server)
    return f"{origin}{server.get('base_url', '/')}{handoff.CALLBACK_PATH}?" if origin else None


def is_server_callback(redirect_uri: str) -> bool:
    server = _server()
    return server is not None and urlsplit(redirect_uri).path == f"{server.get('base_url', '/')}{handoff.CALLBACK_PATH}"


#: How the server learnt its public address, as the hint says it.
ORIGIN_WORDS = {
    "configured": "the server's configured public address",
    "browser": "the address your browser uses for this server",
    "server": "the server's own address: no browser page of it was seen yet",
}
#: On JupyterHub: a key registered for one server serves its user alone.
CLASS_HINT = "A class sharing one key: use iyo_magic.hub.configure_class instead (docs/jupyterhub.md)."


def registration_hint(redirect_uri: str) -> str:
    """What to register as the API key's callback URL: this server's own callback URI, ``?``
    included (never a prefix that covers other servers, such as a hub's ``/user/``), and where
    its address came from."""
    server = _server() or {}
    origin, source = _public_origin(server)
    came_from = ORIGIN_WORDS.get(source, "") if _origin(redirect_uri) == origin else "your configured redirect URI"
    hint = f"Once per API key: register {redirect_uri} as its callback URL on ItsYou.online"
    hint += f" ({came_from})." if came_from else "."
    if os.environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        hint += " " + CLASS_HINT
    return hint


class ServerHandoff:
    """Waits for the answer the Jupyter server's callback page hands over; the same interface
    as the loopback listener (``wait``, ``report``, ``close``)."""

    def __init__(self, expected_state: str) -> None:
        handoff.sweep()
        self.state = expected_state
        self.pending = handoff.login_file(expected_state, handoff.PENDING)
        self.answer_file = handoff.login_file(expected_state, handoff.ANSWER)
        handoff.write_private(self.pending, {"pid": os.getpid(), "since": time.time()})

    def wait(self, timeout: float, redirect_uri: str, cancelled=lambda: False) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            answer = handoff.read(self.answer_file)
            if answer is not None and hmac.compare_digest(str(answer.get("state", "")), self.state):
                handoff.remove(self.answer_file, self.pending)
                return {key: str(answer.get(key, "")) for key in ("code", "error", "state") if answer.get(key)}
            if cancelled():
                raise Cancelled("cancelled")
            if time.monotonic() >= deadline:
                raise NoAnswer(timeout, redirect_uri)
            time.sleep(POLL_SECONDS)

    def report(self, succeeded: bool) -> None:
        handoff.write_private(handoff.login_file(self.state, handoff.OUTCOME), {"succeeded": succeeded})

    def close(self) -> None:
        handoff.remove(self.pending, self.answer_file)

    def __enter__(self) -> ServerHandoff:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
