"""The status card: who, scopes granted versus asked, audience, signature, expiry, refresh.

Plain HTML (no widget import): it is the rich display of `JWT`, of ``%iyo_token --status``, and
the card the login form shows. It never contains a token value.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from ..durations import describe_remaining, utc_time

if TYPE_CHECKING:
    from ..tokens import JWT, AccessToken

_STYLE = (
    "border:1px solid #9ab;border-radius:6px;padding:.6em .9em;margin:.3em 0;max-width:42em;"
    "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:.92em"
)


def _row(label: str, value: str) -> str:
    head = "text-align:left;padding-right:1em;vertical-align:top"
    return f"<tr><th style='{head}'>{escape(label)}</th><td>{value}</td></tr>"


def _codes(items: Iterable[str]) -> str:
    return ", ".join(f"<code>{escape(i)}</code>" for i in items) or "<em>none</em>"


def jwt_card(
    jwt: JWT,
    *,
    asked: tuple[str, ...] | None = None,
    variables: list[str] | None = None,
    access_token: AccessToken | None = None,
    source: str = "",
) -> str:
    """The card for ``jwt``; ``asked`` shows granted versus asked scopes; ``source`` where the
    login came from when not from this kernel's own flow."""
    who = (
        f"user <strong>{escape(jwt.username)}</strong>"
        if jwt.username
        else (f"organization <strong>{escape(jwt.globalid)}</strong>")
    )
    granted = _codes(jwt.scope)
    if asked is not None:
        missing = [s for s in asked if s not in jwt.scope and s != "offline_access"]
        granted += f" <span style='color:#666'>(asked: {_codes(asked) if asked else 'all'})</span>"
        if missing:
            granted += f"<br><span style='color:#b00020'>not granted: {_codes(missing)}</span>"
    signature = (
        "<span style='color:#11722d'>verified</span>"
        if jwt.verified
        else f"<span style='color:#b00020'>not verified</span> ({escape(jwt.verify_note)})"
    )
    expiry = (
        f"{utc_time(jwt.expires_at)} (<span class='iyo-countdown'>{escape(describe_remaining(jwt.expires_in))}</span>)"
    )
    rows = [
        _row("Who", who),
        _row("Scopes", granted),
        _row("Audience", _codes(jwt.audience)),
        _row("Signature", signature),
        _row("Expires", expiry),
        _row("Refresh", "refreshable (offline_access)" if jwt.refreshable else "renewed by logging in again"),
    ]
    if source:
        rows.append(_row("Login", f"from {escape(source)} (no client secret in this kernel)"))
    if access_token is not None:
        rows.append(
            _row(
                "Access token",
                f"scope {_codes(access_token.scope)}, expires {escape(describe_remaining(access_token.expires_in))}",
            )
        )
    if variables:
        rows.append(_row("Use next", _codes(variables)))
    return (
        f"<div class='iyo-card' style='{_STYLE}'><div><strong>ItsYou.online JWT</strong> "
        "<span style='color:#666'>(token values are masked)</span></div>"
        f"<table style='margin-top:.3em'>{''.join(rows)}</table></div>"
    )
