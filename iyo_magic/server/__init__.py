"""Local stand-ins for ItsYou.online and a JumpScale Cockpit, for demos, training and tests.

``StandIns`` runs both on loopback in background threads; ``iyo-magic serve`` runs them as a
process. They reproduce what the real servers do, quirks included (see ``iyo_server``).
They need the ``server`` extra (``pip install 'iyo_magic[server]'``); the magic never imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Accounts", "StandIns"]

if TYPE_CHECKING:
    from .accounts import Accounts
    from .standins import StandIns


def __getattr__(name: str) -> Any:
    """Import on first use, so that ``iyo-magic`` can say what is missing before werkzeug is needed."""
    if name == "Accounts":
        from .accounts import Accounts

        return Accounts
    if name == "StandIns":
        from .standins import StandIns

        return StandIns
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
