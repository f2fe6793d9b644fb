"""``iyo-magic``: run the local stand-ins (``serve``) or the demo (``demo``), or look for leaked tokens (``scan``)."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from importlib.util import find_spec
from pathlib import Path

from ..cockpit.rules import DEFAULT, GENERATIONS
from .keys import default_state_dir

DEFAULT_IYO_PORT = 8977
DEFAULT_COCKPIT_PORT = 8978
#: Seconds a job of a run takes in the Cockpit stand-in the CLI starts: a demo's run takes seconds.
DEFAULT_RUN_PACE = 1.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iyo-magic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the ItsYou.online and Cockpit stand-ins on loopback")
    _server_options(serve)
    serve.add_argument(
        "--env-file", type=Path, help="also write the export lines to this file (for scripts such as binder/start)"
    )

    demo = commands.add_parser("demo", help="run the demo notebook against the stand-ins")
    _server_options(demo)
    demo.add_argument(
        "--execute", action="store_true", help="run the quickstart notebook headless and print what it did"
    )
    demo.add_argument("--no-browser", action="store_true", help="start JupyterLab without opening a browser")

    scan = commands.add_parser(
        "scan",
        help="find ItsYou.online JWTs and $IYO_CLIENT_SECRET's value in notebooks and files (exit 1 if any)",
    )
    scan.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a notebook, a file or a folder")
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=Path, help="accounts JSON file (default: the built-in demo accounts)")
    parser.add_argument("--organization", help="the Cockpit's organization (default: the accounts' first organization)")
    parser.add_argument("--port", type=int, default=DEFAULT_IYO_PORT, help="ItsYou.online stand-in port (0: any)")
    parser.add_argument("--cockpit-port", type=int, default=DEFAULT_COCKPIT_PORT, help="Cockpit stand-in port (0: any)")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help=f"where the signing key is kept (default {default_state_dir()})"
    )
    parser.add_argument(
        "--prefix",
        default=os.environ.get("JUPYTERHUB_SERVICE_PREFIX", ""),
        help="also serve ItsYou.online under this path (default: $JUPYTERHUB_SERVICE_PREFIX, as a JupyterHub service)",
    )
    parser.add_argument(
        "--jupyter-callback",
        default="",
        metavar="PATH",
        help="also accept, from browsers that reach these stand-ins through a Jupyter server, that server's "
        "callback page at PATH (binder/start: the demo key cannot know the Binder address in advance)",
    )
    parser.add_argument(
        "--cockpit-rules",
        choices=list(GENERATIONS),
        default=DEFAULT,
        help=f"which Cockpit's JWT rules, and its 401 texts ({_accepted()}; default %(default)s)",
    )
    parser.add_argument(
        "--jobs",
        type=_count,
        default=0,
        metavar="N",
        help="give the Cockpit's production repository a fleet and N historical jobs over a year "
        "(reproducible: for demos and benchmarks)",
    )
    parser.add_argument(
        "--run-pace",
        type=_seconds,
        default=DEFAULT_RUN_PACE,
        metavar="SECONDS",
        help="seconds each job of an executed run takes in the Cockpit, one after another, as on a real "
        "Cockpit (0: a run is done at once; default %(default)s)",
    )
    parser.add_argument(
        "--code-lifetime",
        type=float,
        default=10.0,
        help="seconds an authorization code stays valid (the real server: 10)",
    )


def _count(text: str) -> int:
    """A whole number, 0 or more (argparse's type)."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, not {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    """A number of seconds, 0 or more (argparse's type)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds, 0 or more, not {text!r}")
    return seconds


def _accepted() -> str:
    """What each generation lets through, for --help (ORG: the organization)."""
    return "; ".join(f"{g.name} accepts {' or '.join(map(str, g.accepts))}" for g in GENERATIONS.values())


def serve(options) -> int:
    from .launch import describe, start_standins, stop_on_sigterm, wait_for_interrupt

    stop = stop_on_sigterm()
    servers = start_standins(options)
    env = servers.environment(with_demo_credentials=options.accounts is None)
    print(describe(servers, env, demo_accounts=options.accounts is None), flush=True)
    if options.env_file:
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        options.env_file.write_text(exports)
    print("\nServing on loopback; Ctrl+C stops.", flush=True)
    wait_for_interrupt(stop)
    servers.stop()
    return 0


#: What the stand-ins need beyond the magic: the ``server`` extra.
SERVER_MODULES = ("werkzeug", "yaml")


def missing_server_modules() -> list[str]:
    return [name for name in SERVER_MODULES if find_spec(name) is None]


def _refused_state_dir(options) -> str:
    """Why ``--state-dir`` is refused ("" when it is not): as ``--remember``'s directory, it must be
    this user's alone (mode 0700), since the signing key found there is used as it is."""
    from ..errors import ConfigError
    from ..remember.store import private_directory

    if options.state_dir is None:
        return ""
    try:
        private_directory(options.state_dir, f"iyo-magic {options.command} --state-dir")
    except ConfigError as exc:
        return str(exc)
    return ""


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    if options.command == "scan":  # needs no stand-in
        from .scan import scan

        return scan(options.paths, os.environ.get("IYO_CLIENT_SECRET"))
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    missing = missing_server_modules()
    if missing:
        print(
            f"iyo-magic {options.command}: the stand-ins need {', '.join(missing)}: pip install 'iyo_magic[server]'",
            file=sys.stderr,
        )
        return 2
    from .accounts import AccountsError

    refused = _refused_state_dir(options)
    if refused:
        print(refused, file=sys.stderr)
        return 2
    try:
        if options.command == "serve":
            return serve(options)
        from .demo import run_demo

        return run_demo(options)
    except AccountsError as exc:
        print(f"iyo-magic: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"iyo-magic: {exc.strerror or exc} (is the port already in use? try --port 0)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
