"""The OAuth grants a login can run, in one table: their names as typed, their labels, and the
facts about each that the rest of the package asks (`login`, the renewal, both front ends).

No code outside this module compares a flow's name: it looks the grant up (`grant`) and reads
its facts. A new grant is a row here, plus the protocol function that runs it.

A leaf module: it imports nothing of the package but its errors, and no I/O.
"""

from __future__ import annotations

from ..errors import ConfigError


class Grant:
    """One grant: its name (as `LoginRequest.flow` holds it), what else may be typed for it, and
    what it needs and allows."""

    __slots__ = ("name", "aliases", "label", "hint", "needs_user", "renews_unattended", "direct_jwt")

    def __init__(
        self,
        name: str,
        aliases: tuple[str, ...],
        *,
        label: str,
        hint: str,
        needs_user: bool,
        renews_unattended: bool,
        direct_jwt: bool,
    ) -> None:
        self.name = name
        #: Other names accepted for it (``-f cc``).
        self.aliases = aliases
        #: The form's dropdown entry.
        self.label = label
        #: What ``%iyo_token?`` adds after its names ('' for nothing).
        self.hint = hint
        #: The user logs in in a browser: a login link, a redirect URI, the browser step.
        self.needs_user = needs_user
        #: The renewal may run it again, without the user, when the JWT can no longer be refreshed.
        self.renews_unattended = renews_unattended
        #: ``--jwt-only`` gets the JWT in one round trip (``response_type=id_token``), no access token.
        self.direct_jwt = direct_jwt

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def __repr__(self) -> str:
        return f"<Grant {self.name}>"


#: Every grant, the default first (the order of ``--flow``'s help and of the form's dropdown).
GRANTS: tuple[Grant, ...] = (
    Grant(
        "client_credentials",
        ("cc",),
        label="Client credentials (API key)",
        hint="",
        needs_user=False,
        renews_unattended=True,
        direct_jwt=True,
    ),
    Grant(
        "authorization_code",
        ("code",),
        label="Authorization code (log in in the browser)",
        hint="log in in the browser",
        needs_user=True,
        renews_unattended=False,
        direct_jwt=False,
    ),
)
DEFAULT_FLOW = GRANTS[0].name
_BY_NAME = {name: each for each in GRANTS for name in each.names}
#: Every name that may be typed for a flow (``--flow``'s choices).
FLOW_NAMES = tuple(_BY_NAME)


def grant(name: str) -> Grant:
    """The grant called ``name`` (or one of its aliases)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = " or ".join(f"{each.name} ({', '.join(each.aliases)})" for each in GRANTS)
        raise ConfigError(f"unknown flow {name!r}; use {known}") from None


def flow_help() -> str:
    """``--flow``'s help: each grant with its aliases (and which is the default) and its hint."""
    parts = []
    for each in GRANTS:
        inside = ", ".join(each.aliases + (("the default",) if each.name == DEFAULT_FLOW else ()))
        parts.append(f"{each.name} ({inside}{': ' + each.hint if each.hint else ''})")
    return " or ".join(parts) + "."
