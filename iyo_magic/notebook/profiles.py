"""Named profiles: the settings of one organization or Cockpit under a name, for
``%iyo_token -p staging``. Never a secret.

Profiles come from ``%config IyoMagics.profiles = {"staging": {...}}`` and from
``profiles.toml`` in the user's config directory, one table per profile::

    [staging]
    base_url = "https://itsyou.online"
    client_id = "staging-org"
    aud = "staging-org"
    cockpit_url = "https://cockpit.staging.example/api"
    secret_env = "STAGING_SECRET"     # the name of the variable that holds the secret

A profile of the same name in ``%config`` wins over the file's. On the line, a flag wins over
the profile, and the profile over ``%config`` settings, the environment and the defaults.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..dirs import config_directory
from ..errors import ConfigError
from ..tokens import JWT_SHAPE

#: What a profile may set: settings, and the line's flow, scope, aud, secret_env and remember.
SETTINGS = ("base_url", "client_id", "cockpit_url", "redirect_uri")
LINE_OPTIONS = ("flow", "scope", "aud", "secret_env", "remember")
KNOWN = SETTINGS + LINE_OPTIONS
_SECRET_WORDS = re.compile(r"secret|password|passwd|token|jwt|api_?key|credential", re.IGNORECASE)


def profiles_file() -> Path:
    return config_directory() / "profiles.toml"


def profile(name: str, configured: Mapping[str, Any]) -> dict[str, Any]:
    """The checked settings of profile ``name``: from ``configured`` (``%config
    IyoMagics.profiles``), else from the profiles file."""
    if name in configured:
        source = "%config IyoMagics.profiles"
        table = configured[name]
    else:
        from_file = _read_file()
        if name not in from_file:
            known = sorted(set(configured) | set(from_file))
            listed = f"profiles: {', '.join(known)}" if known else "there are none"
            raise ConfigError(
                f"no profile {name!r} ({listed}; they come from {profiles_file()} and %config IyoMagics.profiles)"
            )
        source = str(profiles_file())
        table = from_file[name]
    return _checked(name, table, source)


def _read_file() -> dict[str, Any]:
    path = profiles_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path} ({exc.strerror})") from None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # a dependency there
        import tomli as tomllib
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        where = re.search(r"\(at line \d+, column \d+\)", str(exc))  # the place, never the text
        raise ConfigError(f"{path} is not valid TOML {where.group(0) if where else ''}".rstrip()) from None


def _checked(name: str, table: Any, source: str) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"profile {name!r} in {source} must be a table of settings")
    for key, value in table.items():
        if key == "secret_env":
            secret_like = isinstance(value, str) and not value.isidentifier()
        else:
            secret_like = bool(_SECRET_WORDS.search(str(key))) or _holds_token(value)
        if secret_like:
            raise ConfigError(
                f"profile {name!r} in {source} holds a secret ({key}): a profile never does; remove it and "
                "give the secret by $IYO_CLIENT_SECRET, or name its variable with secret_env"
            )
        if key not in KNOWN:
            raise ConfigError(f"profile {name!r} in {source}: unknown setting {key!r} (known: {', '.join(KNOWN)})")
        _check_type(name, source, key, value)
    return dict(table)


def _holds_token(value: Any) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(isinstance(item, str) and re.fullmatch(JWT_SHAPE, item.strip()) for item in values)


def _check_type(name: str, source: str, key: str, value: Any) -> None:
    if key == "remember":
        fine = isinstance(value, bool)
        wanted = "true or false"
    elif key in ("scope", "aud"):
        fine = isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value))
        wanted = "a string or a list of strings"
    else:
        fine = isinstance(value, str)
        wanted = "a string"
    if not fine:
        raise ConfigError(f"profile {name!r} in {source}: {key} must be {wanted}")


def as_list(value: str | list[str] | None) -> list[str]:
    """A profile's scope or aud as the magic's list of values."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
