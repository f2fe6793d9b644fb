"""The user's directories for iyo_magic, one folder name on every platform: the state directory
(``--remember``'s JWTs and locks, the stand-in's signing key) and the config directory
(``profiles.toml``). Each has a variable that moves it (tests, or a user who wants it elsewhere).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

FOLDER = "iyo_magic"
STATE_DIR_ENV = "IYO_STATE_DIR"
CONFIG_DIR_ENV = "IYO_CONFIG_DIR"


def state_directory() -> Path:
    """``$IYO_STATE_DIR``, else the platform's per-user state directory, ``/iyo_magic``."""
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV]).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / FOLDER
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / FOLDER
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / FOLDER


def config_directory() -> Path:
    """``$IYO_CONFIG_DIR``, else the platform's per-user config directory, ``/iyo_magic``
    (``~/.config`` on macOS too, where command-line tools keep theirs)."""
    if os.environ.get(CONFIG_DIR_ENV):
        return Path(os.environ[CONFIG_DIR_ENV]).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / FOLDER
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / FOLDER
