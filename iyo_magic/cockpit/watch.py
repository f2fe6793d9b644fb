"""Following a run until it ends: what ``execute_run(..., wait=True)`` and
``create_run(..., simulate=False, wait=True)`` do once the Cockpit has answered.

`follow` asks for the run (`get_run`, through the session: each poll sends a fresh JWT, as any
call does) gently: `FIRST_POLL` seconds after the start, then each wait `GROWTH` times the last,
up to one request every `LONGEST_POLL` seconds. It shows the progress (``cockpit.run_progress``)
and returns the finished run. ``timeout`` bounds the wait; the stop button (KeyboardInterrupt)
ends it within a poll's sleep, in one line; either way the run goes on in the Cockpit.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Protocol

from ..errors import CockpitError
from .run_progress import RunProgress, TextProgress, WidgetProgress, view_for_this_front_end

#: Seconds from the start to the first poll, the factor each wait grows by, and the longest wait.
FIRST_POLL = 0.2
GROWTH = 1.5
LONGEST_POLL = 1.0


class RunSource(Protocol):
    """What `follow` polls: a Cockpit session (`CockpitOperations.get_run`)."""

    def get_run(self, repository: str, runid: str) -> Any: ...


def checked_timeout(timeout: Any) -> float | None:
    """``timeout`` as seconds (None: no bound); refused, before anything is sent, unless positive."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise CockpitError(f"timeout must be a number of seconds above 0, not {timeout!r}; nothing was sent", None)
    return float(timeout)


def follow(
    cockpit: RunSource,
    repository: str,
    run: Any,
    *,
    timeout: float | None = None,
    view: TextProgress | WidgetProgress | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] = time.sleep,
) -> Any:
    """Poll the run ``run`` (the Cockpit's answer that started it) of ``repository`` until it
    ends, showing its progress in ``view`` (default: a bar in a notebook, else text); the
    finished run, as `get_run` returns it. After ``timeout`` seconds, a `CockpitError`; on
    KeyboardInterrupt, one line and the run as last seen."""
    key = run.get("key") if isinstance(run, dict) else None
    if not isinstance(key, str) or not key:
        raise CockpitError("the Cockpit's answer names no run (no key): there is nothing to wait for", None)
    deadline = None if timeout is None else clock() + timeout
    wait = FIRST_POLL
    view = view or view_for_this_front_end()
    try:
        while True:
            progress = RunProgress(run)
            view.show(progress)
            if progress.ended:
                return run
            left = None if deadline is None else deadline - clock()
            if left is not None and left <= 0:
                raise CockpitError(
                    f"run {key} did not end within {timeout:g} s ({progress.line().partition(': ')[2]}); "
                    f"it goes on in the Cockpit: get_run({repository!r}, {key!r}) shows it",
                    None,
                )
            sleep(wait if left is None else min(wait, left))
            wait = min(wait * GROWTH, LONGEST_POLL)
            run = cockpit.get_run(repository, key)
            if not isinstance(run, dict):
                raise CockpitError(f"the Cockpit answered get_run for run {key} with something that is not a run", None)
    except KeyboardInterrupt:
        view.stopped(f"stopped waiting; the run goes on in the Cockpit (runid {key})")
        return run
