"""Local stand-ins for ItsYou.online and a JumpScale Cockpit, for demos, training and tests.

``StandIns`` runs both on loopback in background threads; ``iyo-magic serve`` runs them as a
process. They reproduce what the real servers do, quirks included (see ``iyo_server``).
"""

from .accounts import Accounts
from .runner import StandIns

__all__ = ["Accounts", "StandIns"]
