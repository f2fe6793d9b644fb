"""Start the stand-ins from ``iyo-magic`` options and tell the user what to export."""

from __future__ import annotations

import shlex
import signal
import threading

from .accounts import DEMO, DEMO_ORGANIZATION, Accounts
from .keys import state_dir_or_default
from .standins import StandIns


def start_standins(options) -> StandIns:
    """The stand-ins of ``serve`` and ``demo``; the Cockpit's organization is ``--organization``,
    else the accounts file's first organization."""
    accounts = Accounts.load(options.accounts) if options.accounts else Accounts.demo()
    return StandIns(
        accounts,
        state_dir=state_dir_or_default(options.state_dir),
        organization=options.organization,
        iyo_port=options.port,
        cockpit_port=options.cockpit_port,
        code_lifetime=options.code_lifetime,
        prefix=options.prefix,
        jupyter_callback=options.jupyter_callback,
        cockpit_rules=options.cockpit_rules,
        jobs=options.jobs,
        run_pace=options.run_pace,
    ).start()


def describe(servers: StandIns, env: dict[str, str], demo_accounts: bool) -> str:
    """What ``serve`` and ``demo`` print: addresses, credentials (demo ones only) and exports."""
    lines = [
        f"ItsYou.online stand-in: {servers.iyo_url}",
        f"Cockpit stand-in:       {servers.cockpit_url}  (organization {servers.organization}, "
        f"{servers.cockpit.rules}'s JWT rules)",
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


def stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM; install it before announcing the servers, so that a SIGTERM
    sent at once still stops them cleanly."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    return stop


def wait_for_interrupt(stop: threading.Event, child=None) -> None:
    """Until Ctrl+C or ``stop`` (or ``child`` exits)."""
    try:
        while not stop.wait(0.5):
            if child is not None and child.poll() is not None:
                return
    except KeyboardInterrupt:
        pass
