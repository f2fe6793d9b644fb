"""`%iyo_token`: get an ItsYou.online access token and JWT into the notebook in one line.

The magic parses its line and calls `NotebookLogin.login`, the path the form takes too; what it
adds is its way of asking (flags, a masked prompt) and of answering (one line, or one
`UsageError` line).
"""

from __future__ import annotations

import logging
import sys

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from traitlets import Dict, Float, List, Unicode, default

from .. import settings
from ..errors import IyoError, OAuthError, TransportError
from ..oauth.grants import DEFAULT_FLOW, grant
from .line import asks_for_help, options_given, suspicious_words, values_of, with_options
from .options import DEFAULT_PREFIX, FORM_OPTIONS, OPTIONS, from_line, labels, routed
from .variables import summary

# The HTTP modules (requests) are imported on first use, so that %load_ext stays cheap.

log = logging.getLogger(__name__)

#: How this front end names the settings that messages refer to (see `IyoError.worded`).
FLAG_LABELS = labels("flag")
#: Flags that ask for something other than a login: `--form` refuses them rather than drop them.
NOT_IN_FORM = ("--status", "--clear", "--logout", "--all")


@magics_class
class IyoMagics(Magics):
    """The ``%iyo_token`` magic. Settings: ``%config IyoMagics.<name> = value``."""

    base_url = Unicode(help="ItsYou.online base URL (env IYO_BASE_URL).").tag(config=True)
    client_id = Unicode(help="Organization globalid or user API key applicationid (env IYO_CLIENT_ID).").tag(
        config=True
    )
    redirect_uri = Unicode(
        help="Redirect URI registered on the API key, for the code flow (env IYO_REDIRECT_URI)."
    ).tag(config=True)
    jwt_public_key = Unicode(
        help="PEM text or path of the key that signs JWTs (env IYO_JWT_PUBLIC_KEY); "
        "the published itsyou.online key by default."
    ).tag(config=True)
    cockpit_url = Unicode(help="Cockpit API base URL (env IYO_COCKPIT_URL).").tag(config=True)
    timeout = Float(help="Seconds to wait for each HTTP answer (env IYO_TIMEOUT).").tag(config=True)
    ca_bundle = Unicode(
        help="CA bundle file for a server with a private CA (env IYO_CA_BUNDLE; REQUESTS_CA_BUNDLE also works)."
    ).tag(config=True)
    login_base_url = Unicode(
        help="Where the browser opens ItsYou.online's login page when not at base_url (env IYO_LOGIN_BASE_URL)."
    ).tag(config=True)
    profiles = Dict(
        help="Named profiles for -p NAME: {name: {base_url, client_id, scope, aud, cockpit_url, flow, "
        "redirect_uri, secret_env, remember}}; never a secret. Also read from profiles.toml in the config directory."
    ).tag(config=True)
    allowed_secret_envs = List(
        Unicode(),
        help="Environment variables, besides IYO_*, that a profile's secret_env may name (a profile cannot set this).",
    ).tag(config=True)
    browser = Unicode(
        "",
        help="Which browser opens the login link: '' for the system's (local kernels only), 'none', "
        "or a name registered with Python's webbrowser module.",
    ).tag(config=True)

    @default("base_url")
    def _default_base_url(self) -> str:
        return settings.from_environment("base_url")

    @default("client_id")
    def _default_client_id(self) -> str:
        return settings.from_environment("client_id")

    @default("redirect_uri")
    def _default_redirect_uri(self) -> str:
        return settings.from_environment("redirect_uri")

    @default("jwt_public_key")
    def _default_jwt_public_key(self) -> str:
        return settings.from_environment("jwt_public_key")

    @default("cockpit_url")
    def _default_cockpit_url(self) -> str:
        return settings.from_environment("cockpit_url")

    @default("ca_bundle")
    def _default_ca_bundle(self) -> str:
        return settings.from_environment("ca_bundle")

    @default("login_base_url")
    def _default_login_base_url(self) -> str:
        return settings.from_environment("login_base_url")

    @default("timeout")
    def _default_timeout(self) -> float:
        return settings.from_environment("timeout")

    @with_options
    @line_magic
    def iyo_token(self, line: str = "") -> None:
        """Get an ItsYou.online access token and JWT, and keep the JWT fresh.

        Stores in the notebook (prefix ``iyo``, see ``-o``):
          iyo_access_token  the access token (masked when shown; a str)
          iyo_jwt           the JWT (masked; .claims, .scope, .expires_at, .refreshable)
          iyo_auth          requests auth: sends the JWT, renews it before it expires
          iyo_cockpit       a requests session on the Cockpit URL, when one is known

        The authorization_code flow (-f code) shows a login link and opens the browser; the
        redirect comes back to a one-shot listener on 127.0.0.1 (the redirect URI's port, or
        --listen). Where the browser cannot reach the kernel, --paste asks for the address the
        browser ended on. ItsYou.online keeps a code only 10 s: paste it at once.

        The client secret never goes on the line: it is read from $IYO_CLIENT_SECRET (or
        --secret-env NAME, or --secret-var NAME), else asked for with a masked prompt.
        Defaults come from %config IyoMagics.<name>, then IYO_* environment variables.

        Examples::

          %iyo_token --client-id myorg --aud myorg
          %iyo_token --client-id APPLICATION_ID --scope user:memberof:myorg
          %iyo_token --jwt-only --validity 3600 -o ops
          %iyo_token -f code --scope user:memberof:myorg         # log in in the browser
          %iyo_token -f code --scope user:memberof:myorg --paste # remote kernel (JupyterHub)
          %iyo_token --aud myorg --remember   # a later kernel refreshes it: no login
          %iyo_token -p staging               # settings from a profile (profiles.toml)
          %iyo_token --status
          %iyo_token --logout                 # forget it everywhere; says what stays valid
          %iyo_token --logout --all           # forget every remembered login

        A JWT to hand to another service, without a refresh token:
          iyo_jwt.derive(aud="billing", validity=3600)
        """
        try:
            self._iyo_token(line)
        except UsageError:
            raise
        except IyoError as exc:
            raise UsageError(exc.worded(FLAG_LABELS)) from None
        except KeyboardInterrupt:
            raise UsageError("%iyo_token: interrupted; nothing was stored") from None
        except Exception as exc:  # a bug: its traceback goes to the log, never to the output
            log.exception("%iyo_token failed")
            raise UsageError(f"%iyo_token: unexpected error ({type(exc).__name__}); see the kernel's log") from None

    def _iyo_token(self, line: str) -> None:
        if asks_for_help(line):
            self._scrub([word.typed for word in suspicious_words(line)])
            print(self.iyo_token.getdoc())
            return
        args = self._with_profile(self._parse(line))
        if args.all and not args.logout:
            raise UsageError("--all goes with --logout: %iyo_token --logout --all forgets every remembered login")
        if args.form:
            self._show_form(args, line)
        elif args.clear:
            removed = self._logins().variables.clear(args.prefix)
            print(f"cleared {', '.join(removed)}" if removed else f"nothing stored under {args.prefix}_*")
        elif args.status:
            self._status(args)
        elif args.logout:
            self._logout(args)
        else:
            self._login(args, line)

    # -- the line --------------------------------------------------------------------------------
    def _parse(self, line: str):
        try:
            return self.iyo_token.parser_for_line().parse_argstring(line)
        except (UsageError, ValueError):  # ValueError: an unbalanced quote
            # argparse's message repeats the offending values, which may be a secret: name
            # only the options, and take anything that could be a secret out of the history.
            self._scrub([word.typed for word in suspicious_words(line)])
            given = options_given(line)
            shown = f" (options given: {' '.join(given)})" if given else ""
            raise UsageError(
                f"%iyo_token: unknown option or bad value{shown}; see %iyo_token? "
                "(a secret never goes on the line: use $IYO_CLIENT_SECRET or --secret-var)"
            ) from None

    def _with_profile(self, args):
        """Fill what the line left out from ``-p NAME``'s profile (a flag wins over the profile)."""
        if args.profile:
            from .profiles import as_list, profile

            chosen = profile(args.profile, self.profiles, self.allowed_secret_envs)
            filled = []
            for option in OPTIONS:
                if not option.profile or option.setting not in chosen:
                    continue
                given, value = getattr(args, option.dest), chosen[option.setting]
                if given is None or given == [] or given is False:
                    filled.append(option.setting)
                if option.kind == "list":
                    setattr(args, option.dest, given or as_list(value))
                elif option.kind == "on":
                    setattr(args, option.dest, given or value)
                elif given is None:
                    setattr(args, option.dest, value)
            args.from_profile = filled
        args.flow = args.flow or DEFAULT_FLOW
        return args

    def _scrub(self, typed: list[str]) -> None:
        """Take words that may be secrets out of the history, the log file and the cell."""
        if typed:
            from .history_scrub import scrub_current_input

            scrub_current_input(self.shell, typed)

    # -- logging in ------------------------------------------------------------------------------
    def _logins(self):
        from .login_path import for_shell

        return for_shell(self.shell)

    def _settings(self) -> dict:
        return {name: getattr(self, name) for name in settings.DEFAULTS}

    def _request(self, args):
        from .login_path import request_from

        return request_from(self._settings(), **routed(from_line(args), "request"))

    def _login(self, args, line: str) -> None:
        from .login_path import BrowserDisplay, SecretSource

        links = LoginLinks()
        request = None
        try:
            request = self._request(args)
            outcome = self._logins().login(
                args.prefix,
                request,
                SecretSource(**routed(from_line(args), "secret"), prompt=self._ask_masked),
                self._browser_options(args),
                BrowserDisplay(show_link=links.show, ask_pasted=self._ask_masked, notice=self._notice),
                fresh=args.fresh,
                remember=args.remember,
            )
        except (IyoError, UsageError, KeyboardInterrupt) as exc:
            # A failed call may have had its secret in a name's place: keep none of those values.
            self._scrub([word.typed for word in values_of(line, "--secret-var", "--secret-env", "--client-id")])
            if isinstance(exc, (OAuthError, TransportError)) and request is not None:  # a request went out
                note = self._profile_sends(args, request, secret_sent=True)
                if note:
                    raise UsageError(f"{exc.worded(FLAG_LABELS)} ({note})") from None
            raise
        finally:
            if links.shown:  # only the code flow shows links (and loads the browser machinery)
                from ..browser.step import LINK_WITHDRAWN

                links.withdraw_all(LINK_WITHDRAWN)
        text = summary(outcome.result, args.prefix)
        note = "" if outcome.reused else self._profile_sends(args, request, secret_sent=not outcome.result.resumed)
        if note:
            text += f" ({note})"
        if outcome.reused:
            restored = f"; restored {', '.join(outcome.restored)}" if outcome.restored else ""
            text += f" (still valid: no request made{restored}; --fresh to renew)"
        print(text)

    def _profile_sends(self, args, request, secret_sent: bool) -> str:
        """What the line's profile sends where, the first time in this kernel ('' without one)."""
        if not args.profile:
            return ""
        from .profiles import first_sends, secret_named

        secret = secret_named(args.secret_var, args.secret_env) if secret_sent else None
        return first_sends(args.profile, args.from_profile, secret, request.base_url, request.cockpit_url or "")

    def _browser_options(self, args):
        """The browser step's options; a client-credentials login never loads that machinery."""
        if not grant(args.flow).needs_user:
            return None
        from ..browser.options import BrowserOptions

        return BrowserOptions(self.browser, **routed(from_line(args), "browser"))

    def _notice(self, text: str) -> None:
        from ..errors import worded

        print(worded(text, FLAG_LABELS))

    def _ask_masked(self, prompt: str) -> str | None:
        """A masked prompt where the front end can answer one; else None, at once."""
        import getpass

        in_kernel = getattr(self.shell, "kernel", None) is not None
        if not in_kernel and not sys.stdin.isatty():
            return None
        try:
            return getpass.getpass(prompt)
        except (StdinNotImplementedError, EOFError, OSError):
            return None

    # -- the other actions -----------------------------------------------------------------------
    def _show_form(self, args, line: str) -> None:
        refused = [flag for flag in options_given(line) if flag in NOT_IN_FORM]
        if refused:
            raise UsageError(f"--form and {' '.join(refused)} ask for different things: use one")
        try:
            from .form import LoginForm
        except ModuleNotFoundError as missing:
            from ..errors import MissingExtra

            raise UsageError(f"%iyo_token --form: {MissingExtra('the form', missing.name or 'ipywidgets')}") from None
        from IPython.display import display

        given = from_line(args)
        display(LoginForm(**{option.setting: given[option.setting] for option in FORM_OPTIONS}))

    def _logout(self, args) -> None:
        from .logout import log_out

        variables = self._logins().variables
        earlier = variables.results.get(args.prefix)
        request = earlier.request if earlier is not None else self._request_if_named(args)
        print(log_out(variables, args.prefix, request, everything=args.all))

    def _request_if_named(self, args):
        """The login the line (or its profile) names, or None when it names none (no client id)."""
        if not (args.client_id or self.client_id):
            return None
        return self._request(args)

    def _status(self, args) -> None:
        from IPython.display import display

        prefix = args.prefix
        variables = self._logins().variables
        text = "\n".join(variables.status_lines(prefix))
        result = variables.results.get(prefix)
        if result is None:
            request = self._request_if_named(args)
            if request is not None and request.want_jwt and request.refreshable:
                from ..remember.resume import kept_note

                text += "\n" + kept_note(request)
        from .logout import kept_lines

        text = "\n".join([text, *kept_lines()])
        if result is None or result.auth is None:
            print(text)
            return
        from .card import jwt_card
        from .variables import variable_names

        card = jwt_card(
            result.auth.jwt,
            asked=result.request.scopes,
            variables=variable_names(result, prefix),
            access_token=result.access_token,
            source=result.source,
        )
        display({"text/plain": text, "text/html": card}, raw=True)


class LoginLinks:
    """The login links one call displays. Each is registered before it is shown, so that however
    the call ends (an interrupt may arrive the moment a link appears) `withdraw_all` replaces
    every one: no ``state`` stays in the saved notebook."""

    def __init__(self) -> None:
        self.shown: list = []

    def show(self, url: str):
        """Display the authorize link; return a function that replaces it."""
        from html import escape

        from IPython.display import DisplayHandle

        handle = DisplayHandle()
        self.shown.append(handle)
        handle.display(
            _bundle(
                f'<a href="{escape(url)}" target="_blank" rel="noopener">Log in at ItsYou.online</a> '
                "(then authorize; this cell waits)",
                f"Log in at ItsYou.online (then authorize; this cell waits):\n{url}",
            ),
            raw=True,
        )
        return lambda note: self._withdraw(handle, note)

    def withdraw_all(self, note: str) -> None:
        for handle in list(self.shown):
            self._withdraw(handle, note)

    def _withdraw(self, handle, note: str) -> None:
        from html import escape

        if handle in self.shown:
            self.shown.remove(handle)
            handle.update(_bundle(f"<em>{escape(note)}</em>", note), raw=True)


def _bundle(html: str, text: str) -> dict:
    return {"text/html": html, "text/plain": text}


__all__ = ["DEFAULT_PREFIX", "IyoMagics"]
