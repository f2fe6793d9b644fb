"""iyo_magic: ItsYou.online OAuth tokens and JWTs in Jupyter, in one line.

``%load_ext iyo_magic`` then ``%iyo_token --client-id ORG --aud ORG``. The library parts
(`login`, `IyoAuth`, `CockpitSession`, the token values) work without IPython.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

__all__ = [
    "JWT",
    "AccessToken",
    "CockpitError",
    "CockpitSession",
    "ConfigError",
    "IyoAuth",
    "IyoError",
    "LoginForm",
    "LoginRequest",
    "LoginResult",
    "OAuthError",
    "RefreshError",
    "TransportError",
    "__version__",
    "load_ipython_extension",
    "login",
    "unload_ipython_extension",
]

_LAZY = {
    "JWT": "tokens",
    "AccessToken": "tokens",
    "CockpitError": "errors",
    "ConfigError": "errors",
    "IyoError": "errors",
    "OAuthError": "errors",
    "RefreshError": "errors",
    "TransportError": "errors",
    "CockpitSession": "cockpit.session",
    "IyoAuth": "auth.requests_auth",
    "LoginRequest": "oauth.request",
    "LoginResult": "login_flow",
    "login": "login_flow",
    "LoginForm": "notebook.form",
}

if TYPE_CHECKING:
    from .auth.requests_auth import IyoAuth
    from .cockpit.session import CockpitSession
    from .errors import CockpitError, ConfigError, IyoError, OAuthError, RefreshError, TransportError
    from .login_flow import LoginResult, login
    from .notebook.form import LoginForm
    from .oauth.request import LoginRequest
    from .tokens import JWT, AccessToken


def __getattr__(name: str) -> Any:
    """Import public names on first use, so ``%load_ext`` stays cheap."""
    if name in _LAZY:
        from importlib import import_module

        try:
            module = import_module(f".{_LAZY[name]}", __name__)
        except ModuleNotFoundError as missing:
            from .errors import EXTRAS, MissingExtra

            if (missing.name or "").split(".")[0] not in EXTRAS:
                raise
            raise MissingExtra(name, missing.name or "") from None
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names too, before their first use (so that ``iyo_magic.<Tab>`` completes them)."""
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython) -> None:
    """Register ``%iyo_token`` (``%load_ext iyo_magic``)."""
    from .notebook.magic import IyoMagics

    ipython.register_magics(IyoMagics)


def unload_ipython_extension(ipython) -> None:
    """Remove ``%iyo_token`` (``%unload_ext iyo_magic``); stored variables stay."""
    ipython.magics_manager.magics["line"].pop("iyo_token", None)


def _jupyter_server_extension_points() -> list[dict]:
    """The Jupyter server extension (enabled on install): the browser's way back to a kernel."""
    return [{"module": "iyo_magic.jupyter.extension"}]
