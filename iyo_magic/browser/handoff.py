"""The handoff between a kernel that waits for the browser and the Jupyter server it runs under.

Both share a machine and a user (locally, on JupyterHub, on Binder), so they meet in
``jupyter_runtime_dir()``: private (0600) files named by a hash of the login's ``state``, never by
the state itself. The kernel announces the login (``.pending``), the server's callback page
writes the browser's answer (``.answer``, once), the kernel writes how the login ended
(``.outcome``) for the page to tell the browser. The server marks its own presence in
``iyo-server-<id>.json`` (its ``base_url`` and the address browsers use), named by a random id
the server puts in its environment (``$IYO_SERVER_ID``) before any kernel starts: its kernels
inherit it, and two servers that share a runtime directory (named servers, containers with PID
namespaces of their own) never find each other's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from pathlib import Path

PENDING, ANSWER, OUTCOME = "pending", "answer", "outcome"
#: The callback page, under the server's base URL.
CALLBACK_PATH = "iyo/callback"
#: Handoff files older than this are leftovers of an interrupted login and are swept away.
STALE_AFTER = 600.0


def runtime_dir() -> Path:
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def login_file(state: str, kind: str, folder: Path | None = None) -> Path:
    """The file of one login's handoff; its name holds a hash of the state, not the state."""
    digest = hashlib.sha256(state.encode()).hexdigest()[:40]
    return (folder or runtime_dir()) / f"iyo-login-{digest}.{kind}"


#: The variable that names the server's marker; set by the server, inherited by its kernels.
SERVER_ID_ENV = "IYO_SERVER_ID"
SERVER_ID = re.compile(r"[0-9a-f]{32}")


def new_server_id() -> str:
    return secrets.token_hex(16)


def server_file(server_id: str, folder: Path | None = None) -> Path:
    return (folder or runtime_dir()) / f"iyo-server-{server_id}.json"


def write_private(path: Path, data: dict, *, only_once: bool = False) -> bool:
    """Write ``data`` as JSON readable by this user only. With ``only_once``, refuse (False) if
    the file exists already; otherwise replace it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path if only_once else path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(target, flags, 0o600)
    except FileExistsError:
        if only_once:
            return False
        os.unlink(target)
        descriptor = os.open(target, flags, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)
    if not only_once:
        os.replace(target, path)
    return True


def read(path: Path) -> dict | None:
    """The JSON object in ``path``, or None when it is missing, unreadable or not ours alone."""
    try:
        if path.stat().st_mode & 0o077:
            return None  # someone else could have written it
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def sweep(folder: Path | None = None) -> None:
    """Remove handoff files that an interrupted login left behind."""
    try:
        leftovers = list((folder or runtime_dir()).glob("iyo-login-*"))
    except OSError:
        return
    for path in leftovers:
        try:
            if time.time() - path.stat().st_mtime > STALE_AFTER:
                path.unlink()
        except OSError:
            pass
