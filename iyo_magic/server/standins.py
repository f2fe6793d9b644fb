"""`StandIns`: the ItsYou.online and Cockpit stand-ins on loopback, in background threads."""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .accounts import DEMO, DEMO_ORGANIZATION, Accounts
from .cockpit_server import API_PREFIX, CockpitServer
from .history import seed_jobs
from .iyo_server import IyoServer
from .keys import PUBLIC_KEY_FILE, SigningKey

LOOPBACK = "127.0.0.1"
SHUTDOWN_POLL = 0.05  # seconds: how soon `stop` takes effect
log = logging.getLogger("iyo_magic.server")


class PathOnlyLogHandler(WSGIRequestHandler):
    """Logs method, path and status only: a query string could hold what a client should not
    have put there (a secret), so it is never written."""

    def date_time_string(self, timestamp=None) -> str:
        """The Date header by the application's clock (tests set a stand-in's clock off)."""
        clock = getattr(self.server.app, "clock", None)
        return super().date_time_string(clock() if clock is not None and timestamp is None else timestamp)

    def log_request(self, code="-", size="-") -> None:
        # A malformed request line leaves no path or command: the client still gets its 400.
        path = getattr(self, "path", "").split("?", 1)[0]
        log.info("%s %s %s", getattr(self, "command", "-"), path or "-", getattr(code, "value", code))


class MountedAt:
    """Serve a WSGI app under ``prefix`` as well as at the root: a JupyterHub proxy forwards the
    full path (``/services/iyo/v1/...``), which this moves into ``SCRIPT_NAME``, so the app's
    pages and redirects stay under the prefix."""

    def __init__(self, app, prefix: str) -> None:
        self.app, self.prefix = app, "/" + prefix.strip("/")

    def __getattr__(self, name: str):
        return getattr(self.app, name)  # the app's clock, hits, state

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
            environ["PATH_INFO"] = path[len(self.prefix) :] or "/"
        return self.app(environ, start_response)


class StandIns:
    """Both stand-ins; use as a context manager or call `start` and `stop`.

    >>> with StandIns() as servers:            # doctest: +SKIP
    ...     os.environ.update(servers.environment())
    """

    def __init__(
        self,
        accounts: Accounts | None = None,
        *,
        state_dir: str | Path | None = None,
        organization: str | None = None,
        iyo_port: int = 0,
        cockpit_port: int = 0,
        code_lifetime: float = 10.0,
        prefix: str = "",
        jupyter_callback: str = "",
        cockpit_rules: str = "g8cockpit",
        run_pace: float = 0.0,
        jobs: int = 0,
    ) -> None:
        """``jobs``: give the Cockpit's ``production`` repository a fleet and this many historical
        jobs over a year (``server.history``: reproducible), for demos and benchmarks.
        ``run_pace``: the seconds each job of an executed run takes (0, the default: at once)."""
        self._tempdir = None
        if state_dir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="iyo-standin-")
            state_dir = self._tempdir.name
        self.state_dir = Path(state_dir)
        self.key = SigningKey.load_or_create(self.state_dir)
        self.accounts = accounts or Accounts.demo()
        #: The Cockpit's organization: the first of the accounts unless given.
        self.organization = organization or next(iter(self.accounts.organizations), DEMO_ORGANIZATION)
        self.iyo = IyoServer(self.accounts, self.key, code_lifetime=code_lifetime, jupyter_callback=jupyter_callback)
        self.cockpit = CockpitServer(self.organization, self.key.public_pem, rules=cockpit_rules, run_pace=run_pace)
        seed_jobs(self.cockpit.ays, jobs)
        self._ports = (iyo_port, cockpit_port)
        #: The path ItsYou.online's stand-in is also served under (a JupyterHub service's prefix).
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self._servers: list[BaseWSGIServer] = []
        self._threads: list[threading.Thread] = []

    @property
    def public_key_path(self) -> Path:
        return self.state_dir / PUBLIC_KEY_FILE

    @property
    def iyo_url(self) -> str:
        return f"http://{LOOPBACK}:{self._servers[0].server_port}{self.prefix}"

    @property
    def cockpit_url(self) -> str:
        return f"http://{LOOPBACK}:{self._servers[1].server_port}{API_PREFIX}"

    def environment(self, *, with_demo_credentials: bool = False) -> dict[str, str]:
        """The ``IYO_*`` variables a client needs to use these stand-ins; with
        ``with_demo_credentials``, also the demo organization's client id, (public) secret and
        registered redirect URI."""
        env = {
            "IYO_BASE_URL": self.iyo_url,
            "IYO_COCKPIT_URL": self.cockpit_url,
            "IYO_JWT_PUBLIC_KEY": str(self.public_key_path),
        }
        if with_demo_credentials:
            demo_key = DEMO["organizations"][0]["api_keys"][0]
            env["IYO_CLIENT_ID"] = DEMO_ORGANIZATION
            env["IYO_CLIENT_SECRET"] = demo_key["secret"]
            # The demo key registers the loopback listener's URL: use it even under a Jupyter
            # server, whose own callback page the demo key does not know.
            env["IYO_REDIRECT_URI"] = demo_key["callback_url"]
        return env

    def start(self) -> StandIns:
        iyo = MountedAt(self.iyo, self.prefix) if self.prefix else self.iyo
        for app, port in zip((iyo, self.cockpit), self._ports):
            # threaded: a ThreadedWSGIServer, whose request threads are daemons (werkzeug's own
            # setting), so a slow connection never holds up stop() or the interpreter's exit.
            server = make_server(LOOPBACK, port, app, threaded=True, request_handler=PathOnlyLogHandler)
            thread = threading.Thread(
                target=server.serve_forever, args=(SHUTDOWN_POLL,), name="iyo-standin", daemon=True
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []
        if self._tempdir is not None:
            self._tempdir.cleanup()

    def __enter__(self) -> StandIns:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
