"""`LoginForm`: the ipywidgets form, a view over `usecase.login` (no HTTP here).

The work runs in a background thread, so the cell returns at once and the kernel stays free;
the secret leaves its Password field as soon as it is read, so a notebook saved with widget
state holds no secret; errors show in the form as one line, and what the user typed (but the
secret) stays.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import ipywidgets as w

from .card import jwt_card
from .errors import Cancelled, ConfigError, IyoError
from .store import TokenStore, summary, variable_names
from .usecase import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, LoginRequest, load_public_key, login

log = logging.getLogger(__name__)

FLOWS = [
    ("Client credentials (API key)", CLIENT_CREDENTIALS),
    ("Authorization code (log in in the browser)", AUTHORIZATION_CODE),
]
_WIDE = {"description_width": "9em"}
_ROW = w.Layout(width="36em")


def _text(description: str, value: str = "", placeholder: str = "") -> w.Text:
    return w.Text(value=value, description=description, placeholder=placeholder, style=_WIDE, layout=_ROW)


class LoginForm:
    """The login form. ``iyo_magic.LoginForm()`` in a notebook, or ``%iyo_token --form``.

    Fields start from the configuration (magic flags, ``%config IyoMagics``, ``IYO_*``).
    """

    def __init__(self, magics=None, *, prefix: str = "iyo", **initial) -> None:
        if magics is None:
            magics = _loaded_magics()
        self.magics = magics
        self.prefix = prefix
        self.store: TokenStore = magics.store
        self.result = None
        self.worker: threading.Thread | None = None
        self._cancel = threading.Event()
        self._pasted: queue.Queue[str] = queue.Queue()

        self.flow = w.Dropdown(
            options=FLOWS, value=initial.get("flow", CLIENT_CREDENTIALS), description="Flow", style=_WIDE, layout=_ROW
        )
        self.client_id = _text(
            "Client id", initial.get("client_id") or magics.client_id, "organization globalid or API key application id"
        )
        self.secret = w.Password(description="Client secret", style=_WIDE, layout=_ROW)
        self.scope = _text("JWT scope", initial.get("scope", ""), "e.g. user:memberof:ORG (comma-separated)")
        self.aud = _text("Audience", initial.get("aud", ""), "e.g. ORG, the Cockpit's organization")
        self.validity = _text("Validity (s)", str(initial.get("validity") or ""), "seconds; empty: 24 h")
        self.base_url = _text("ItsYou.online", initial.get("base_url") or magics.base_url)
        self.cockpit_url = _text("Cockpit URL", initial.get("cockpit_url") or magics.cockpit_url)
        self.redirect_uri = _text("Redirect URI", initial.get("redirect_uri") or magics.redirect_uri)
        self.paste_mode = w.Checkbox(
            value=bool(initial.get("paste")),
            indent=False,
            description="Remote kernel: paste the address the browser ends on",
        )
        self.advanced = w.Accordion(
            children=[w.VBox([self.base_url, self.cockpit_url, self.redirect_uri, self.paste_mode])]
        )
        self.advanced.set_title(0, "Advanced")
        self.advanced.selected_index = None

        self.button = w.Button(
            description="Get token and JWT", button_style="primary", icon="key", layout=w.Layout(width="auto")
        )
        self.cancel = w.Button(description="Cancel", layout=w.Layout(display="none"))
        self.progress = w.HTML()
        self.link = w.HTML()
        self.pasted = w.Password(description="Pasted address", style=_WIDE, layout=_ROW)
        self.paste_button = w.Button(description="Submit address")
        self.paste_box = w.HBox([self.pasted, self.paste_button], layout=w.Layout(display="none"))
        self.message = w.HTML()
        self.card = w.HTML()
        for widget, name in ((self.message, "iyo-message"), (self.card, "iyo-status"), (self.link, "iyo-link")):
            widget.add_class(name)

        self.button.on_click(self._on_submit)
        self.cancel.on_click(self._on_cancel)
        self.paste_button.on_click(self._on_paste)
        self.box = w.VBox(
            [
                self.flow,
                self.client_id,
                self.secret,
                self.scope,
                self.aud,
                self.validity,
                self.advanced,
                w.HBox([self.button, self.cancel, self.progress]),
                self.link,
                self.paste_box,
                self.message,
                self.card,
            ],
        )
        self.box.add_class("iyo-form")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    # -- reading the form ------------------------------------------------------------------------
    def _request(self) -> LoginRequest:
        validity = self.validity.value.strip()
        if validity and not validity.isdigit():
            raise ConfigError("validity must be a whole number of seconds")
        return LoginRequest(
            client_id=self.client_id.value.strip(),
            base_url=self.base_url.value.strip(),
            flow=self.flow.value,
            scopes=(self.scope.value,),
            audiences=(self.aud.value,),
            validity=int(validity) if validity else None,
            redirect_uri=self.redirect_uri.value.strip(),
            cockpit_url=self.cockpit_url.value.strip(),
            public_key=load_public_key(self.magics.jwt_public_key),
            timeout=self.magics.timeout,
            ca_bundle=self.magics.ca_bundle or None,
        )

    # -- events ----------------------------------------------------------------------------------
    def _on_submit(self, _button=None) -> None:
        if self.busy:
            return
        secret, self.secret.value = self.secret.value, ""  # out of the widget state at once
        try:
            request = self._request()
            if not secret:
                raise ConfigError("enter the client secret")
        except IyoError as exc:
            self._show_error(exc)
            return
        self._cancel = threading.Event()
        self._set_busy(True, "Working…")
        self.message.value = ""
        self.worker = threading.Thread(target=self._work, args=(request, secret), daemon=True, name="iyo-login-form")
        self.worker.start()

    def _on_cancel(self, _button=None) -> None:
        self._cancel.set()
        self._pasted.put("")
        self._set_busy(False)
        self._show_error("cancelled")

    def _on_paste(self, _button=None) -> None:
        text, self.pasted.value = self.pasted.value, ""
        self._pasted.put(text)

    @property
    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_alive() and not self._cancel.is_set()

    def wait(self, timeout: float = 30) -> None:
        """Wait for the background work (tests and scripts)."""
        if self.worker is not None:
            self.worker.join(timeout)

    # -- the work, in the background -------------------------------------------------------------
    def _work(self, request: LoginRequest, secret: str) -> None:
        cancel = self._cancel
        try:
            code_grant = self._browser_step(cancel) if request.flow == AUTHORIZATION_CODE else None
            result = login(
                request,
                secret,
                code_grant=code_grant,
                on_renew=lambda jwt: self.store.renewed(self.prefix, result, jwt),
            )
            if cancel.is_set():
                return
            self.store.store(self.prefix, result)
            self.result = result
            self._show_result(result)
            if result.auth is not None:
                threading.Thread(target=self._tick, args=(result,), daemon=True, name="iyo-card").start()
        except IyoError as exc:
            if not cancel.is_set():
                self._show_error(exc)
        except Exception as exc:  # a bug: keep its traceback in the log, show one line here
            log.exception("login form failed")
            self._show_error(f"unexpected error ({type(exc).__name__}); see the kernel log")
        finally:
            if not cancel.is_set():
                self._set_busy(False)
            self.paste_box.layout.display = "none"

    def _browser_step(self, cancel: threading.Event):
        from .codeflow import BrowserStep

        return BrowserStep(
            show_link=self._show_link,
            ask_pasted=self._ask_pasted,
            paste=self.paste_mode.value,
            open_browser=False,  # the user clicks the link in the form
            cancelled=cancel.is_set,
            notice=lambda text: None,
        )

    def _show_link(self, url: str):
        from html import escape

        self.link.value = (
            f'<a href="{escape(url)}" target="_blank" rel="noopener" class="iyo-login-link">'
            "Log in at ItsYou.online</a> — then authorize; this form waits."
        )
        if self.paste_mode.value:
            self.paste_box.layout.display = "flex"

        def withdraw(note: str) -> None:
            self.link.value = f"<em>{note}</em>"

        return withdraw

    def _ask_pasted(self, prompt: str) -> str:
        self.progress.value = "Paste the address your browser ended on, then Submit."
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                text = self._pasted.get(timeout=0.2)
            except queue.Empty:
                continue
            if self._cancel.is_set():
                raise Cancelled("cancelled")
            return text
        raise Cancelled("no address was pasted within 10 minutes")

    # -- showing ---------------------------------------------------------------------------------
    def _set_busy(self, busy: bool, note: str = "") -> None:
        self.button.disabled = busy
        self.cancel.layout.display = "" if busy else "none"
        self.progress.value = note

    def _show_error(self, error) -> None:
        from html import escape

        self.message.value = f"<span style='color:#b00020' class='iyo-error'>{escape(str(error))}</span>"

    def _show_result(self, result) -> None:
        from html import escape

        self.message.value = f"<span class='iyo-success'>{escape(summary(result, self.prefix))}</span>"
        self._render_card(result)

    def _render_card(self, result) -> None:
        if result.jwt is None:
            self.card.value = ""
            return
        self.card.value = jwt_card(
            result.auth.jwt,
            asked=result.request.scopes,
            variables=variable_names(result, self.prefix),
            access_token=result.access_token,
        )

    def _tick(self, result) -> None:
        """The card's live countdown, while this result is the form's and the JWT is valid."""
        while self.result is result and self.card.comm is not None:
            time.sleep(1)
            self._render_card(result)
            if result.auth.jwt.expired:
                return


def _loaded_magics():
    """The shell's `IyoMagics` (loading the extension if needed)."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise ConfigError("LoginForm needs IPython: run it in a notebook")
    if "IyoMagics" not in shell.magics_manager.registry:
        shell.extension_manager.load_extension("iyo_magic")
    return shell.magics_manager.registry["IyoMagics"]
