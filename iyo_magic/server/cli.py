"""``iyo-magic``: run the local stand-ins (``serve``) or the demo (``demo``)."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from pathlib import Path

from .accounts import DEMO, DEMO_ORGANIZATION, Accounts, AccountsError
from .keys import default_state_dir
from .runner import StandIns

DEFAULT_IYO_PORT = 8977
DEFAULT_COCKPIT_PORT = 8978


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
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=Path, help="accounts JSON file (default: the built-in demo accounts)")
    parser.add_argument(
        "--organization", default=DEMO_ORGANIZATION, help=f"the Cockpit's organization (default {DEMO_ORGANIZATION})"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_IYO_PORT, help="ItsYou.online stand-in port (0: any)")
    parser.add_argument("--cockpit-port", type=int, default=DEFAULT_COCKPIT_PORT, help="Cockpit stand-in port (0: any)")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help=f"where the signing key is kept (default {default_state_dir()})"
    )
    parser.add_argument(
        "--code-lifetime",
        type=float,
        default=10.0,
        help="seconds an authorization code stays valid (the real server: 10)",
    )


def start_standins(options) -> StandIns:
    accounts = Accounts.load(options.accounts) if options.accounts else Accounts.demo()
    return StandIns(
        accounts,
        state_dir=options.state_dir or default_state_dir(),
        organization=options.organization,
        iyo_port=options.port,
        cockpit_port=options.cockpit_port,
        code_lifetime=options.code_lifetime,
    ).start()


def demo_environment(servers: StandIns, with_demo_credentials: bool) -> dict[str, str]:
    env = servers.environment()
    if with_demo_credentials:
        env["IYO_CLIENT_ID"] = DEMO_ORGANIZATION
        env["IYO_CLIENT_SECRET"] = DEMO["organizations"][0]["api_keys"][0]["secret"]
    return env


def describe(servers: StandIns, env: dict[str, str], demo_accounts: bool) -> str:
    lines = [
        f"ItsYou.online stand-in: {servers.iyo_url}",
        f"Cockpit stand-in:       {servers.cockpit_url}  (organization {servers.organization})",
    ]
    if demo_accounts:
        org_key = DEMO["organizations"][0]["api_keys"][0]
        lines += [
            "",
            "Demo credentials (public, for demos and training only):",
            f"  organization {DEMO_ORGANIZATION}: client id {DEMO_ORGANIZATION}, secret {org_key['secret']}",
        ]
        for user in DEMO["users"]:
            key = user["api_keys"][0]
            lines.append(
                f"  user {user['username']} (member of {', '.join(user['memberof'])}): password "
                f"{user['password']}; API key {key['applicationid']}, secret {key['secret']}"
            )
    else:
        lines += [
            "",
            f"Accounts: {', '.join(servers.accounts.organizations)} (organizations), "
            f"{', '.join(servers.accounts.users)} (users); secrets as in your accounts file",
        ]
    lines += ["", "Export these in the shell that starts Jupyter:"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    return "\n".join(lines)


def serve(options) -> int:
    servers = start_standins(options)
    env = demo_environment(servers, with_demo_credentials=options.accounts is None)
    print(describe(servers, env, demo_accounts=options.accounts is None), flush=True)
    if options.env_file:
        exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        options.env_file.write_text(exports)
    print("\nServing on loopback; Ctrl+C stops.", flush=True)
    wait_for_interrupt()
    servers.stop()
    return 0


def wait_for_interrupt(child=None) -> None:
    """Until Ctrl+C or SIGTERM (or ``child`` exits)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            if child is not None and child.poll() is not None:
                return
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
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
