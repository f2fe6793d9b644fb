"""The one login path of every notebook front end: the magic and the form differ only in how
they ask. `NotebookLogin.login` owns what they share:

* an identical call while the JWT is valid makes no request (and puts back variables that
  ``%reset`` or ``del`` removed);
* where the secret comes from (`SecretSource`: a field, a notebook variable, the environment,
  else a masked prompt where the front end has one);
* the browser policy (`BrowserOptions`);
* storing the results in the notebook (`TokenVariables`) and keeping ``<prefix>_jwt`` current
  when the auth renews it.

Settings are found the same way for both (`settings.resolve`): flag or field, then
``%config IyoMagics``, then the environment, then the default.
"""

from __future__ import annotations

import os
import weakref
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ConfigError, OAuthError
from ..login_flow import LoginResult, fingerprint, login
from ..oauth.grants import DEFAULT_FLOW, grant
from ..oauth.request import LoginRequest, load_public_key
from ..settings import BROKER_URL_ENV, DEFAULT_REDIRECT_URI, FROM_BROKER, HUB_JWT_ENV, SECRET_ENV
from .variables import TokenVariables

if TYPE_CHECKING:
    from ..browser.options import BrowserOptions
    from ..tokens import JWT


class SecretSource:
    """Where the client secret comes from, first found first: ``typed`` (a form field), the
    notebook variable ``variable``, the environment variable ``env`` (default IYO_CLIENT_SECRET);
    else ``prompt(text)``, a masked prompt, where the front end can answer one."""

    __slots__ = ("typed", "variable", "env", "prompt")

    def __init__(
        self,
        typed: str = "",
        variable: str | None = None,
        env: str | None = None,
        prompt: Callable[[str], str | None] | None = None,
    ) -> None:
        self.typed, self.variable, self.env = typed, variable, env
        #: Asks with a masked prompt; returns None where the front end cannot answer one.
        self.prompt = prompt

    def found(self, namespace: dict) -> tuple[str, str]:
        """(the secret, where it came from) without prompting; ('', '') when there is none."""
        if self.typed:
            return self.typed, "typed"
        if self.variable:
            value = namespace.get(self.variable)
            if self.variable not in namespace:
                raise ConfigError(
                    "{setting:secret_var}: the notebook has no variable of that name "
                    "(give the variable's name, not the secret)"
                )
            if not isinstance(value, str) or not value:
                raise ConfigError("{setting:secret_var}: the variable must hold the secret as a non-empty string")
            return value, "variable"
        name = self.env or SECRET_ENV
        if not (name.isidentifier() and name.isascii() and len(name) <= 100):
            raise ConfigError("{setting:secret_env}: give the name of an environment variable, not the secret")
        value = os.environ.get(name, "")
        return (value, f"${name}") if value else ("", "")

    def asked(self) -> str:
        """The secret from the prompt; where no prompt can be answered, a `ConfigError` at once
        that says what to set."""
        secret = self.prompt("Client secret (hidden): ") if self.prompt is not None else None
        if secret is None:
            raise ConfigError(
                "no client secret: set $IYO_CLIENT_SECRET (or {setting:secret_env}) in the kernel's environment, "
                "or use {setting:secret_var}; this front end cannot answer a prompt"
            )
        if not secret:
            raise ConfigError("no client secret given")
        return secret


class LoginOutcome:
    """What `NotebookLogin.login` did: the result, whether it was an earlier one reused, and
    which of a reused result's variables had to be put back (after ``%reset`` or ``del``)."""

    __slots__ = ("result", "reused", "restored")

    def __init__(self, result: LoginResult, reused: bool = False, restored: tuple[str, ...] = ()) -> None:
        self.result, self.reused, self.restored = result, reused, restored


class BrowserDisplay:
    """How a front end takes part in the browser step: it shows the link (and withdraws it),
    asks for a pasted address, shows notes, and says whether the user cancelled."""

    __slots__ = ("show_link", "ask_pasted", "notice", "cancelled")

    def __init__(
        self,
        show_link: Callable[[str], Callable[[str], None]],
        ask_pasted: Callable[[str], str | None] | None = None,
        notice: Callable[[str], None] = print,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.show_link, self.ask_pasted, self.notice, self.cancelled = show_link, ask_pasted, notice, cancelled


class NotebookLogin:
    """The tokens of one notebook and the one call that logs in; `for_shell` gives the shell's."""

    def __init__(self, namespace: dict) -> None:
        self.variables = TokenVariables(namespace)

    def login(
        self,
        prefix: str,
        request: LoginRequest,
        secret: SecretSource,
        browser: BrowserOptions | None = None,
        display: BrowserDisplay | None = None,
        *,
        fresh: bool = False,
        remember: bool = False,
    ) -> LoginOutcome:
        """Log in (or reuse an identical call's still-valid result) and store the variables.
        With ``remember``, a JWT kept by an earlier login is refreshed instead, when there is one."""
        if not prefix.isidentifier():
            raise ConfigError("{setting:prefix} must be a valid Python name (letters, digits and _)")
        value, _ = secret.found(self.variables.namespace)
        earlier = self.variables.results.get(prefix)
        # With --remember, an earlier result is reused only if it was kept too: else this call
        # logs in, so that the JWT gets remembered as asked.
        if not fresh and earlier is not None and (earlier.remembered_in or not remember):
            same_secret = fingerprint(value) if value else earlier.secret_fingerprint
            if earlier.is_fresh_for(request, same_secret):
                return LoginOutcome(earlier, reused=True, restored=tuple(self.variables.restore(prefix)))
        code_grant, handed = None, None
        if not value:  # on a JupyterHub class, the hub's login or the class's broker needs no secret
            handed = handed_jwt(request)
        if grant(request.flow).needs_user and handed is None:
            code_grant = self._browser_step(request, browser, display, broker=not value)  # before any prompt
        result = login(
            request,
            lambda: value or secret.asked(),
            remember=remember and handed is None,
            fresh=fresh,
            notice=display.notice if display is not None else print,
            code_grant=code_grant,
            on_renew=lambda jwt: self.variables.renewed(prefix, jwt),
            handed=handed,
        )
        self.variables.put(prefix, result)
        return LoginOutcome(result)

    @staticmethod
    def _browser_step(
        request: LoginRequest, browser: BrowserOptions | None, display: BrowserDisplay | None, broker: bool = False
    ):
        from ..browser.options import BrowserOptions
        from ..browser.server_return import is_server_callback
        from ..browser.step import BrowserStep

        browser = browser or BrowserOptions()
        if display is None:
            raise ConfigError(f"the {request.flow} flow needs a front end that can show a link")
        opener, open_browser, note = browser.opener()
        if broker and os.environ.get(BROKER_URL_ENV):
            from ..browser.broker import BrokerStep

            return BrokerStep.from_environment(
                os.environ[BROKER_URL_ENV],
                show_link=display.show_link,
                notice=display.notice,
                cancelled=display.cancelled,
                wait=browser.wait,
                open_browser=open_browser and not browser.paste,
                browser=opener,
            )
        if is_server_callback(request.redirect_uri):  # through the server, the browser can reach it
            note = ""
        return BrowserStep(
            show_link=display.show_link,
            ask_pasted=display.ask_pasted,
            paste=browser.paste,
            listen=browser.listen,
            open_browser=open_browser,
            browser=opener,
            notice=display.notice,
            cancelled=display.cancelled,
            wait=browser.wait,
            opening_note=note,
        )


_BY_SHELL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def for_shell(shell) -> NotebookLogin:
    """The `NotebookLogin` of an IPython shell's namespace, shared by all its front ends."""
    logins = _BY_SHELL.get(shell)
    if logins is None or logins.variables.namespace is not shell.user_ns:
        logins = _BY_SHELL[shell] = NotebookLogin(shell.user_ns)
    return logins


def request_from(settings: dict[str, Any], **given: Any) -> LoginRequest:
    """A `LoginRequest` from what a front end was given (flags or fields; None where not
    given) over ``settings`` (`settings.resolve`)."""

    def pick(name: str) -> Any:
        value = given.pop(name, None)
        return settings[name] if value is None else value

    if given.get("redirect_uri") is None and grant(given.get("flow") or DEFAULT_FLOW).needs_user:
        given["redirect_uri"] = default_redirect_uri(settings)

    base = {
        "client_id": pick("client_id"),
        "base_url": pick("base_url"),
        "redirect_uri": pick("redirect_uri"),
        "cockpit_url": pick("cockpit_url"),
        "public_key": load_public_key(settings["jwt_public_key"]),
        "timeout": settings["timeout"],
        "ca_bundle": settings["ca_bundle"] or None,
        "login_base_url": login_page_base(settings["login_base_url"]),
    }
    return LoginRequest(**base, **{k: v for k, v in given.items() if v is not None})


def handed_jwt(request: LoginRequest) -> JWT | None:
    """The user's own JWT that a JupyterHub class handed this server (``$IYO_HUB_JWT``, see
    ``iyo_magic.hub``), when it is for the request's organization; else None. A masked value, so
    that no traceback frame shows it."""
    text = os.environ.get(HUB_JWT_ENV, "").strip()
    if not text:
        return None
    from ..tokens import JWT

    try:
        handed = JWT(text)
    except OAuthError:
        raise ConfigError(f"${HUB_JWT_ENV} holds no JWT; ask the hub's admin") from None
    return handed if request.client_id in ("", handed.azp) else None


def without_secret(request: LoginRequest) -> str:
    """Where ``request``'s login comes from when no secret is in this kernel, on a JupyterHub
    class (the hub's login, or the class's broker for the code flow); '' elsewhere."""
    if handed_jwt(request) is not None:
        from ..login_flow import FROM_HUB

        return FROM_HUB
    if grant(request.flow).needs_user and os.environ.get(BROKER_URL_ENV):
        return FROM_BROKER
    return ""


def login_page_base(configured: str) -> str:
    """Where the browser opens the login page. A path is relative to the notebook's page, so it
    holds only in a kernel under a Jupyter server; elsewhere (nbclient, a terminal: no page)
    the login page is at the base URL."""
    if configured.startswith("/"):
        from ..browser.server_return import under_jupyter_server

        return configured if under_jupyter_server() else ""
    return configured


def default_redirect_uri(settings: dict[str, Any]) -> str:
    """The configured redirect URI, whatever its value; when none is configured, the callback
    page of the Jupyter server this kernel runs under (when it has the extension), which the
    user's browser can reach, else the loopback listener's."""
    if settings["redirect_uri"]:
        return settings["redirect_uri"]
    from ..browser.server_return import server_callback

    return server_callback() or DEFAULT_REDIRECT_URI
