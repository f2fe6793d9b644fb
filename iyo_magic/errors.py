"""One exception hierarchy for everything iyo_magic raises on purpose.

Every message is one line that says what went wrong and what to do, and never holds a secret,
an access token or a JWT.
"""

from __future__ import annotations


class IyoError(Exception):
    """Base of every error iyo_magic raises on purpose."""


class ConfigError(IyoError):
    """Missing or invalid configuration: a client id, a secret, a URL, a key."""


class TransportError(IyoError):
    """The request did not get an answer: unreachable, timeout, TLS, or a refused plain-http URL."""


class OAuthError(IyoError):
    """The server answered with an error status, or with a body we cannot use."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RefreshError(IyoError):
    """The JWT could not be renewed; the earlier tokens are left as they were."""


class Cancelled(IyoError):
    """The user cancelled the login."""


class CockpitError(IyoError):
    """The Cockpit answered with an error status."""

    def __init__(self, message: str, status: int, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body
