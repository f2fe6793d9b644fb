"""`%iyo_token`: get an ItsYou.online access token and JWT into the notebook in one line."""

from __future__ import annotations

import getpass
import logging
import os
import re
import shlex
import sys
from typing import TYPE_CHECKING

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Float, Unicode, default

from . import flows
from .errors import ConfigError, IyoError
from .store import TokenStore, summary

if TYPE_CHECKING:
    from .codeflow import BrowserStep
    from .usecase import LoginRequest

# The HTTP modules (requests) are imported on first use, so that %load_ext stays cheap.

DEFAULT_PREFIX = "iyo"
SECRET_ENV = "IYO_CLIENT_SECRET"
log = logging.getLogger(__name__)

#: How this front end names the settings that messages refer to (see `IyoError.worded`).
FLAG_LABELS = {
    "client_id": "--client-id (or IYO_CLIENT_ID)",
    "validity": "--validity",
    "listen": "--listen PORT",
    "paste": "--paste",
    "wait": "--wait SECONDS",
    "timeout": "%config IyoMagics.timeout (or IYO_TIMEOUT)",
    "ca_bundle": "%config IyoMagics.ca_bundle (or IYO_CA_BUNDLE)",
    "base_url": "--base-url (or IYO_BASE_URL)",
    "cockpit_url": "--cockpit (or IYO_COCKPIT_URL)",
    "redirect_uri": "--redirect-uri (or IYO_REDIRECT_URI)",
    "flow": "--flow",
    "jwt_only": "--jwt-only",
    "want_jwt": "--no-jwt",
}


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
    browser = Unicode(
        "",
        help="Which browser opens the login link: '' for the system's (local kernels only), 'none', "
        "or a name registered with Python's webbrowser module.",
    ).tag(config=True)

    @default("base_url")
    def _default_base_url(self) -> str:
        return os.environ.get("IYO_BASE_URL") or flows.DEFAULT_BASE_URL

    @default("client_id")
    def _default_client_id(self) -> str:
        return os.environ.get("IYO_CLIENT_ID", "")

    @default("redirect_uri")
    def _default_redirect_uri(self) -> str:
        return os.environ.get("IYO_REDIRECT_URI") or flows.DEFAULT_REDIRECT_URI

    @default("jwt_public_key")
    def _default_jwt_public_key(self) -> str:
        return os.environ.get("IYO_JWT_PUBLIC_KEY") or flows.PUBLISHED_PUBLIC_KEY

    @default("cockpit_url")
    def _default_cockpit_url(self) -> str:
        return os.environ.get("IYO_COCKPIT_URL", "")

    @default("ca_bundle")
    def _default_ca_bundle(self) -> str:
        return os.environ.get("IYO_CA_BUNDLE", "")

    @default("timeout")
    def _default_timeout(self) -> float:
        raw = os.environ.get("IYO_TIMEOUT", "").strip()
        try:
            return float(raw) if raw else flows.DEFAULT_TIMEOUT
        except ValueError:
            raise ConfigError("IYO_TIMEOUT is not a number of seconds; fix or unset it") from None

    def __init__(self, shell=None, **kwargs) -> None:
        super().__init__(shell=shell, **kwargs)
        #: The notebook's token variables and the last result per prefix.
        self.store = TokenStore(self.shell.user_ns if self.shell is not None else {})

    @magic_arguments()
    @argument(
        "-f",
        "--flow",
        default="client_credentials",
        choices=["client_credentials", "cc", "authorization_code", "code"],
        help="OAuth flow: client_credentials (cc, default) or authorization_code (code).",
    )
    @argument("--client-id", metavar="ID", help="Organization globalid, or a user API key's applicationid.")
    @argument(
        "--secret-env", metavar="NAME", help=f"Environment variable holding the client secret (default {SECRET_ENV})."
    )
    @argument("--secret-var", metavar="NAME", help="Notebook variable holding the client secret.")
    @argument(
        "--scope",
        action="append",
        default=[],
        metavar="LIST",
        help="JWT scopes, comma-separated, may repeat; e.g. user:memberof:myorg.",
    )
    @argument(
        "--aud",
        action="append",
        default=[],
        metavar="LIST",
        help="JWT audiences, comma-separated, may repeat; e.g. the Cockpit's organization.",
    )
    @argument("--validity", type=int, metavar="SECONDS", help="JWT lifetime (can only shorten it).")
    @argument(
        "--no-refresh",
        action="store_true",
        help="Do not ask for offline_access (the JWT is then renewed by a new login).",
    )
    @argument("--no-jwt", action="store_true", help="Get the access token only.")
    @argument(
        "--jwt-only", action="store_true", help="One round trip (response_type=id_token): a JWT and no access token."
    )
    @argument(
        "--redirect-uri", metavar="URI", help="Redirect URI registered on the API key, for the authorization_code flow."
    )
    @argument(
        "--listen",
        metavar="[HOST:]PORT",
        help="Where the loopback listener waits for the browser (default: the redirect URI's port).",
    )
    @argument(
        "--paste",
        action="store_true",
        help="Remote kernel: paste the address the browser ended on instead of listening.",
    )
    @argument("--no-browser", action="store_true", help="Show the login link without opening a browser.")
    @argument(
        "--wait",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="How long the listener waits for the browser (default 120).",
    )
    @argument("--base-url", metavar="URL", help="ItsYou.online base URL.")
    @argument("--cockpit", metavar="URL", help="Cockpit API base URL; makes <prefix>_cockpit.")
    @argument(
        "-o",
        "--prefix",
        default=DEFAULT_PREFIX,
        metavar="NAME",
        help="Prefix of the variables to create (default iyo).",
    )
    @argument("--form", action="store_true", help="Show the login form instead.")
    @argument("--status", action="store_true", help="Show what is stored (masked), with expiry.")
    @argument("--clear", action="store_true", help="Forget the tokens of this prefix.")
    @argument(
        "--fresh", action="store_true", help="Log in again even if an identical earlier call's JWT is still valid."
    )
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
          %iyo_token --status
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
        args = self._parse(line)
        prefix = args.prefix
        if not prefix.isidentifier():
            raise UsageError("--prefix must be a valid Python name (letters, digits and _)")
        if args.clear:
            self._clear(prefix)
            return
        if args.status:
            self._status(prefix)
            return
        if args.form:
            self._show_form(args)
            return
        self._run(args, self._request(args))

    # -- parsing ---------------------------------------------------------------------------------
    def _parse(self, line: str):
        try:
            return parse_argstring(self.iyo_token, line)
        except (UsageError, ValueError):  # ValueError: an unbalanced quote
            # argparse's message repeats the offending values, which may be a secret: name
            # only the options, and take anything that could be a secret out of the history.
            words = self._suspicious_words(line)
            if words:
                from .history import scrub_current_input

                scrub_current_input(self.shell, words)
                self._replace_cell_text(words)
            options = sorted({w.split("=", 1)[0] for w in _split(line) if w.startswith("-")})
            shown = f" (options given: {' '.join(options)})" if options else ""
            raise UsageError(
                f"%iyo_token: unknown option or bad value{shown}; see %iyo_token? "
                "(a secret never goes on the line: use $IYO_CLIENT_SECRET or --secret-var)"
            ) from None

    def _suspicious_words(self, line: str) -> list[str]:
        """Words that are neither a known option nor the value of one: maybe a secret."""
        actions = self.iyo_token.parser._option_string_actions
        words, found, index = _split(line), [], 0
        while index < len(words):
            word = words[index]
            action = actions.get(word.split("=", 1)[0])
            if action is None:
                if "=" in word or not word.startswith("-"):  # an unknown option's name is no secret
                    found.append(word.split("=", 1)[-1])  # KEY=value: the value
                index += 1
            elif "=" in word or action.nargs == 0:
                index += 1
            else:
                index += 2
        return [word for word in found if word]

    def _replace_cell_text(self, words: list[str]) -> None:
        """In a notebook, take the words out of the cell the user typed, too."""
        if getattr(self.shell, "kernel", None) is None:
            return
        from .history import scrub

        cells = self.shell.history_manager.input_hist_raw
        if cells:
            self.shell.set_next_input(scrub(cells[-1], words), replace=True)

    def _request(self, args) -> LoginRequest:
        from .usecase import LoginRequest, load_public_key

        return LoginRequest(
            client_id=args.client_id or self.client_id,
            base_url=args.base_url or self.base_url,
            flow=args.flow,
            scopes=tuple(args.scope),
            audiences=tuple(args.aud),
            validity=args.validity,
            refreshable=not args.no_refresh,
            want_jwt=not args.no_jwt,
            jwt_only=args.jwt_only,
            redirect_uri=args.redirect_uri or self.redirect_uri,
            cockpit_url=args.cockpit or self.cockpit_url,
            public_key=load_public_key(self.jwt_public_key),
            timeout=self.timeout,
            ca_bundle=self.ca_bundle or None,
        )

    # -- the secret ------------------------------------------------------------------------------
    def _secret_without_prompt(self, args) -> str:
        if args.secret_var:
            if args.secret_var not in self.shell.user_ns:
                raise UsageError(
                    "--secret-var: the notebook has no variable of that name (give the variable's name, not the secret)"
                )
            value = self.shell.user_ns[args.secret_var]
            if not isinstance(value, str) or not value:
                raise UsageError("--secret-var: the variable must hold the secret as a non-empty string")
            return value
        return os.environ.get(args.secret_env or SECRET_ENV, "")

    def _prompt_secret(self, args, request: LoginRequest) -> str:
        secret = self._ask_masked(
            f"Client secret for {request.client_id}: ",
            f"no client secret for {request.client_id}: set {_env_name(args.secret_env)} in the "
            "kernel's environment, or use --secret-var NAME",
        )
        if not secret:
            raise UsageError("no client secret given")
        return secret

    def _ask_masked(self, prompt: str, instead: str) -> str:
        """A masked prompt where the front end can answer one; else an error at once."""
        no_prompt = UsageError(f"{instead}; this front end cannot answer a prompt")
        in_kernel = getattr(self.shell, "kernel", None) is not None
        if not in_kernel and not sys.stdin.isatty():
            raise no_prompt
        try:
            return getpass.getpass(prompt)
        except (StdinNotImplementedError, EOFError, OSError):
            raise no_prompt from None

    # -- running ---------------------------------------------------------------------------------
    def _run(self, args, request: LoginRequest) -> None:
        from .usecase import AUTHORIZATION_CODE, fingerprint, login

        prefix = args.prefix
        earlier = self.store.results.get(prefix)
        secret = self._secret_without_prompt(args)
        if not args.fresh and earlier is not None:
            same_secret = fingerprint(secret) if secret else earlier.secret_fingerprint
            if earlier.is_fresh_for(request, same_secret):
                print(f"{summary(earlier, prefix)} (still valid: no request made; --fresh to renew)")
                return
        if not secret:
            secret = self._prompt_secret(args, request)
        code_grant = self._browser_step(args) if request.flow == AUTHORIZATION_CODE else None
        result = login(
            request, secret, code_grant=code_grant, on_renew=lambda jwt: self.store.renewed(prefix, result, jwt)
        )
        self.store.store(prefix, result)
        print(summary(result, prefix))

    def _browser_step(self, args) -> BrowserStep:
        import webbrowser

        from .codeflow import BrowserStep

        remote = running_remotely()
        chosen = self.browser.strip()
        if chosen == "none" or args.no_browser or args.paste:
            opener, open_browser = webbrowser.open, False
        elif chosen:
            try:
                opener, open_browser = webbrowser.get(chosen).open, True
            except webbrowser.Error:
                raise UsageError(f"IyoMagics.browser: no browser named {chosen!r}") from None
        else:
            # A system browser on a remote kernel would open on the wrong machine (or hang a console).
            opener, open_browser = webbrowser.open, not remote
            if remote and not args.listen:
                print(
                    "This kernel seems remote: if your browser cannot reach its 127.0.0.1, "
                    "stop (■) and run again with --paste."
                )
        return BrowserStep(
            show_link=show_login_link,
            ask_pasted=lambda prompt: self._ask_masked(prompt, "--paste needs a prompt"),
            paste=args.paste,
            listen=args.listen,
            open_browser=open_browser,
            browser=opener,
            wait=args.wait,
        )

    def _show_form(self, args) -> None:
        try:
            from .widget import LoginForm
        except ImportError:
            raise UsageError("the form needs ipywidgets: pip install ipywidgets") from None
        from IPython.display import display

        from .usecase import canonical_flow

        display(
            LoginForm(
                self,
                prefix=args.prefix,
                flow=canonical_flow(args.flow),
                client_id=args.client_id,
                scope=",".join(args.scope),
                aud=",".join(args.aud),
                validity=args.validity,
                base_url=args.base_url,
                cockpit_url=args.cockpit,
                redirect_uri=args.redirect_uri,
                paste=args.paste,
            )
        )

    def _clear(self, prefix: str) -> None:
        removed = self.store.clear(prefix)
        print(f"cleared {', '.join(removed)}" if removed else f"nothing stored under {prefix}_*")

    def _status(self, prefix: str) -> None:
        from IPython.display import display

        text = "\n".join(self.store.status_lines(prefix))
        result = self.store.results.get(prefix)
        if result is None or result.auth is None:
            print(text)
            return
        from .card import jwt_card
        from .store import variable_names

        card = jwt_card(
            result.auth.jwt,
            asked=result.request.scopes,
            variables=variable_names(result, prefix),
            access_token=result.access_token,
        )
        display({"text/plain": text, "text/html": card}, raw=True)


def _env_name(name: str | None) -> str:
    """The variable to name in a message; a value that is not a conventional name is not echoed."""
    if not name:
        return SECRET_ENV
    return name if re.fullmatch(r"[A-Z][A-Z0-9_]{0,40}", name) else "the variable named by --secret-env"


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


REMOTE_MARKERS = ("JUPYTERHUB_API_TOKEN", "BINDER_LAUNCH_HOST", "BINDER_REQUEST", "SSH_CONNECTION")


def running_remotely() -> bool:
    """JupyterHub, Binder or SSH: the user's browser is likely on another machine."""
    return any(os.environ.get(name) for name in REMOTE_MARKERS)


def show_login_link(url: str):
    """Display the authorize link; return a function that replaces it (no state stays saved)."""
    from html import escape

    from IPython.display import display

    def bundle(html: str, text: str) -> dict:
        return {"text/html": html, "text/plain": text}

    handle = display(
        bundle(
            f'<a href="{escape(url)}" target="_blank" rel="noopener">Log in at ItsYou.online</a> '
            "(then authorize; this cell waits)",
            f"Log in at ItsYou.online (then authorize; this cell waits):\n{url}",
        ),
        raw=True,
        display_id=True,
    )

    def withdraw(note: str) -> None:
        if handle is not None:
            handle.update(bundle(f"<em>{escape(note)}</em>", note), raw=True)

    return withdraw
