"""One exception hierarchy for everything iyo_magic raises on purpose.

Every message is one line that says what went wrong and what to do, and never holds a secret,
an access token or a JWT. Where a message names a setting, it writes ``{setting:NAME}`` (NAME
as in `LoginRequest`), and each front end words it for its user with `IyoError.worded`: a flag
for the magic, a field for the form; ``str()`` gives the plain name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: A setting named in a message (compiled on first use: errors are rare).
_SETTING = r"\{setting:(\w+)\}"


def worded(text: str, labels: Mapping[str, str] | None = None) -> str:
    """``text`` with each ``{setting:NAME}`` replaced by ``labels[NAME]`` (else NAME)."""
    return re.sub(_SETTING, lambda found: (labels or {}).get(found.group(1), found.group(1)), text)


class IyoError(Exception):
    """Base of every error iyo_magic raises on purpose."""

    def worded(self, labels: Mapping[str, str] | None = None) -> str:
        """The message in the words of a front end (see `worded`)."""
        return worded(super().__str__(), labels)

    def __str__(self) -> str:
        return self.worded()


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
    """The user cancelled the login (Cancel, or Ctrl+C / the kernel's stop button)."""


class PortInUse(ConfigError):
    """The loopback listener's port is taken (often by another login still waiting)."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} is in use (another login still waiting?); stop it, or choose another port "
            "with {setting:listen} and a redirect URI registered for it"
        )
        self.port = port


class NoAnswer(OAuthError):
    """The browser did not come back in time."""

    def __init__(self, timeout: float, redirect_uri: str) -> None:
        super().__init__(
            f"no answer from the browser within {timeout:g} s. If ItsYou.online showed 'Bad Request', "
            f"the redirect URI {redirect_uri} is not registered as a callback URL of the API key; else "
            "log in and authorize sooner, or allow longer with {setting:wait}"
        )


class CockpitError(IyoError):
    """The Cockpit answered with an error status, or could not be reached."""

    def __init__(self, message: str, status: int | None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


#: The extra of ``iyo_magic`` that brings each optional module.
EXTRAS = {
    "ipywidgets": "form",
    "werkzeug": "server",
    "yaml": "server",
    "keyring": "keyring",
    "jupyterlab": "demo",
    "matplotlib": "plot",
}


class MissingExtra(ImportError):
    """An optional part used without what it needs; the message says what to install."""

    def __init__(self, what: str, module: str) -> None:
        extra = EXTRAS.get(module.split(".")[0])
        hint = f"pip install 'iyo_magic[{extra}]'" if extra else f"pip install {module}"
        super().__init__(f"{what} needs {module}: {hint}", name=module)
