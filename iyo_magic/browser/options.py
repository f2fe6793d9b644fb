"""`BrowserOptions`: how the Authorization Code flow's browser step runs, the same for every
front end (whether and how the login link is opened, paste or listen, how long to wait).

Light on purpose: a client-credentials login never imports the browser machinery.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from ..errors import ConfigError
from ..settings import DEFAULT_WAIT

REMOTE_MARKERS = ("JUPYTERHUB_API_TOKEN", "BINDER_LAUNCH_HOST", "BINDER_REQUEST", "SSH_CONNECTION")


def running_remotely() -> bool:
    """JupyterHub, Binder or SSH: the user's browser is likely on another machine."""
    return any(os.environ.get(name) for name in REMOTE_MARKERS)


@dataclass(frozen=True)
class BrowserOptions:
    """How the browser step runs, the same for every front end: whether and how to open the
    login link, paste or listen (and where), how long to wait.

    ``setting`` is the ``browser`` setting: '' for the system's browser on a local kernel only
    (on a remote one it would open on the wrong machine, or hang a console), 'none', or a name
    registered with Python's `webbrowser` module.
    """

    setting: str = ""
    no_browser: bool = False
    paste: bool = False
    listen: str | None = None
    wait: float = DEFAULT_WAIT

    def opener(self) -> tuple[Callable[[str], bool], bool, str]:
        """(the function that opens a URL, whether to call it, a note for the user or '')."""
        import webbrowser

        chosen = self.setting.strip()
        if chosen == "none" or self.no_browser or self.paste:
            return webbrowser.open, False, ""
        if chosen:
            try:
                return webbrowser.get(chosen).open, True, ""
            except webbrowser.Error:
                raise ConfigError(f"{{setting:browser}}: no browser named {chosen!r}") from None
        if not running_remotely():
            return webbrowser.open, True, ""
        note = (
            ""
            if self.listen
            else (
                "This kernel seems remote: if your browser cannot reach its 127.0.0.1, stop and choose {setting:paste}."
            )
        )
        return webbrowser.open, False, note
