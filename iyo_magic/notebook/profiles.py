"""Named profiles: the settings of one organization or Cockpit under a name, for
``%iyo_token -p staging``. Never a secret.

Profiles come from ``%config IyoMagics.profiles = {"staging": {...}}`` and from
``profiles.toml`` in the user's config directory, one table per profile::

    [staging]
    base_url = "https://itsyou.online"
    client_id = "staging-org"
    aud = "staging-org"
    cockpit_url = "https://cockpit.staging.example/api"
    secret_env = "IYO_STAGING_SECRET" # the name of the variable that holds the secret

A profile of the same name in ``%config`` wins over the file's. On the line, a flag wins over
the profile, and the profile over ``%config`` settings, the environment and the defaults.

Profiles are shared (a team's config directory), so a profile does not decide alone which secret
leaves the machine: its ``secret_env`` may name an ``IYO_*`` variable, or one the user allowed in
``%config IyoMagics.allowed_secret_envs`` (which no profile can set). And the first time in a
kernel that a profile sends the secret to a host other than ItsYou.online's (``itsyou.online`` and
its subdomains) or loopback, or the JWT to its Cockpit URL (any host but loopback), the magic's
line says which variable goes to which host (`first_sends`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..dirs import config_directory
from ..errors import ConfigError
from ..oauth.url_policy import is_loopback_host
from ..tokens import JWT_SHAPE

#: What a profile may set: settings, and the line's flow, scope, aud, secret_env and remember.
SETTINGS = ("base_url", "client_id", "cockpit_url", "redirect_uri")
LINE_OPTIONS = ("flow", "scope", "aud", "secret_env", "remember")
KNOWN = SETTINGS + LINE_OPTIONS
#: The variables any profile may read the secret from; others need the user's own allowance.
ALWAYS_ALLOWED_PREFIX = "IYO_"
#: The user's allowance, a setting no profile may hold.
ALLOWANCE = "allowed_secret_envs"
#: ItsYou.online's own host: a secret sent there (or to a subdomain) is not announced.
ITSYOU_ONLINE = "itsyou.online"
_SECRET_WORDS = re.compile(r"secret|password|passwd|token|jwt|api_?key|credential", re.IGNORECASE)


def profiles_file() -> Path:
    return config_directory() / "profiles.toml"


def profile(name: str, configured: Mapping[str, Any], allowed_secret_envs: Collection[str] = ()) -> dict[str, Any]:
    """The checked settings of profile ``name``: from ``configured`` (``%config
    IyoMagics.profiles``), else from the profiles file. Its ``secret_env`` must be an ``IYO_*``
    name or one of ``allowed_secret_envs``."""
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
    return _checked(name, table, source, allowed_secret_envs)


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
    except RecursionError:  # tomllib reads nested arrays and tables by recursion
        raise ConfigError(f"{path} is nested too deeply to be read as TOML") from None


def _checked(name: str, table: Any, source: str, allowed_secret_envs: Collection[str]) -> dict[str, Any]:
    if not isinstance(table, Mapping):
        raise ConfigError(f"profile {name!r} in {source} must be a table of settings")
    if ALLOWANCE in table:
        raise ConfigError(
            f"profile {name!r} in {source} sets {ALLOWANCE}: a profile cannot allow itself; remove it, "
            f"and allow a variable yourself with %config IyoMagics.{ALLOWANCE}"
        )
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
        if key == "secret_env":
            _check_allowed(name, source, value, allowed_secret_envs)
    return dict(table)


def _check_allowed(name: str, source: str, variable: str, allowed: Collection[str]) -> None:
    if variable.startswith(ALWAYS_ALLOWED_PREFIX) or variable in allowed:
        return
    raise ConfigError(
        f"profile {name!r} in {source} reads the secret from ${variable}: a profile may name only an "
        f"{ALWAYS_ALLOWED_PREFIX}* variable; to allow it, run %config IyoMagics.{ALLOWANCE} = [{variable!r}]"
    )


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


#: What was announced in this kernel: (what, host) pairs, each said once.
_announced: set[tuple[str, str]] = set()


def first_sends(name: str, filled: Collection[str], secret: str | None, base_url: str, cockpit_url: str) -> str:
    """What profile ``name`` sends where, said the first time in this kernel: ``secret`` (how
    the secret is named, e.g. ``$IYO_STAGING_SECRET``; None when none is sent) goes to
    ``base_url``'s host when the profile chose the variable or the base URL (``filled``), and
    the JWT to ``cockpit_url``'s host when the profile chose it. '' when nothing is new."""
    sends = []
    if secret and {"secret_env", "base_url"} & set(filled):
        host = _host(base_url)
        if not (_is_itsyou_online(host) or is_loopback_host(host)):
            sends.append((secret, host))
    if "cockpit_url" in filled and cockpit_url:
        host = _host(cockpit_url)
        if not is_loopback_host(host):
            sends.append(("the JWT", host))
    new = [(what, host) for what, host in sends if (what, host) not in _announced]
    _announced.update(new)
    if not new:
        return ""
    return f"profile {name!r} sends " + " and ".join(f"{what} to {host}" for what, host in new)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _is_itsyou_online(host: str) -> bool:
    return host == ITSYOU_ONLINE or host.endswith("." + ITSYOU_ONLINE)


def secret_named(variable: str | None, env: str | None) -> str:
    """How a message names the secret a login sends: its notebook variable or its environment variable."""
    if variable:
        return f"the secret in the notebook variable {variable}"
    from ..settings import SECRET_ENV

    name = env or SECRET_ENV
    return f"${name}" if os.environ.get(name) else "the client secret"
