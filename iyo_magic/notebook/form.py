"""`LoginForm`: the ipywidgets form, a view over `NotebookLogin.login` (no HTTP, no policy here).

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
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .. import settings
from ..browser.options import BrowserOptions
from ..errors import Cancelled, ConfigError, IyoError, worded
from ..login_flow import LoginResult
from ..oauth.grants import DEFAULT_FLOW, GRANTS, grant
from .card import jwt_card
from .login_path import (
    BrowserDisplay,
    NotebookLogin,
    SecretSource,
    default_redirect_uri,
    for_shell,
    request_from,
    without_secret,
)
from .options import FORM_OPTIONS, Option, labels, routed
from .variables import summary, variable_names

log = logging.getLogger(__name__)

FLOWS = [(each.label, each.name) for each in GRANTS]
#: What to get: (want_jwt, jwt_only).
WANTED = [
    ("Access token and JWT", (True, False)),
    ("JWT only (one round trip)", (True, True)),
    ("Access token only", (False, False)),
]
#: The settings that the "Get" dropdown sets, in the order of WANTED's values.
_WANTED_PARTS = ("want_jwt", "jwt_only")
#: How this front end names the settings that messages refer to (see `IyoError.worded`).
FIELD_LABELS = labels("field")
#: A field that falls back on a setting whose default is worked out (not a plain setting).
_WORKED_OUT = {"redirect_uri": default_redirect_uri}
#: Where the secret's field sits among the main fields (after the client id's, slot 1).
_SECRET_SLOT = 2
_WIDE = {"description_width": "9em"}
_ROW = w.Layout(width="36em")


class LoginForm:
    """The login form. ``iyo_magic.LoginForm()`` in a notebook, or ``%iyo_token --form``.

    Fields start from the keywords (the magic's flags), then ``%config IyoMagics``, then the
    ``IYO_*`` environment. An empty secret field takes the secret from the environment (or the
    notebook variable ``secret_var``), and the form says so under the field.

    Each option of `options.FORM_OPTIONS` is an attribute: its field (``form.client_id``,
    ``form.paste_mode``), or the keyword's value where it has none (``form.prefix``).
    """

    # The attributes made from options.FORM_OPTIONS that this class reads by name; the others are Any.
    prefix: str
    secret_var: str | None
    no_browser: bool
    flow: w.Dropdown
    remember: w.Checkbox
    paste_mode: w.Checkbox

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...

    def __init__(
        self,
        *,
        prefix: str = "iyo",
        flow: str | None = None,
        client_id: str | None = None,
        secret_var: str | None = None,
        secret_env: str | None = None,
        scope: str | None = None,
        aud: str | None = None,
        validity: int | None = None,
        base_url: str | None = None,
        cockpit_url: str | None = None,
        redirect_uri: str | None = None,
        paste: bool = False,
        listen: str | None = None,
        wait: float | None = None,
        no_browser: bool = False,
        refreshable: bool = True,
        want_jwt: bool = True,
        jwt_only: bool = False,
        remember: bool = False,
    ) -> None:
        values = locals()
        given = {option.setting: values[option.setting] for option in FORM_OPTIONS}
        shell = _shell()
        self.settings = settings.resolve(shell.config.get("IyoMagics", {}))
        self.logins: NotebookLogin = for_shell(shell)
        self.result: LoginResult | None = None
        self.worker: threading.Thread | None = None
        self._cancel = threading.Event()
        self._pasted: queue.Queue[str] = queue.Queue()

        self.secret = w.Password(description="Client secret", style=_WIDE, layout=_ROW)
        self.secret_note = w.HTML()
        self.secret_note.add_class("iyo-secret-note")
        # Each option's field (where the spec places it), or the keyword's value where it has none.
        placed: dict[str, list] = {"main": [(_SECRET_SLOT, [self.secret, self.secret_note])], "advanced": []}
        made: set[str] = set()
        for option in FORM_OPTIONS:
            field = option.field
            if field is None:
                setattr(self, option.setting, given[option.setting])
            elif field.attr not in made:  # one field may show two settings ("Get")
                made.add(field.attr)
                setattr(self, field.attr, self._field(option, given))
                placed[field.place].append((field.slot, [getattr(self, field.attr)]))

        def laid_out(place: str) -> list:
            return [widget for _, widgets in sorted(placed[place], key=lambda slot: slot[0]) for widget in widgets]

        self.advanced = w.Accordion(children=[w.VBox(laid_out("advanced"))])
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
        for widget, name in (
            (self.message, "iyo-message"),
            (self.card, "iyo-status"),
            (self.link, "iyo-link"),
            (self.flow, "iyo-flow"),
        ):
            widget.add_class(name)

        self.button.on_click(self._on_submit)
        self.cancel.on_click(self._on_cancel)
        self.paste_button.on_click(self._on_paste)
        self.secret.observe(lambda _change: self._show_secret_source(), "value")
        self.box = w.VBox(
            [
                *laid_out("main"),
                self.advanced,
                w.HBox([self.button, self.cancel, self.progress]),
                self.link,
                self.paste_box,
                self.message,
                self.card,
            ],
        )
        self.box.add_class("iyo-form")
        self._show_secret_source()

    def _field(self, option: Option, given: dict):
        """The widget of ``option``'s field, filled from ``given`` (else the configuration)."""
        field, value = option.field, given[option.setting]
        assert field is not None
        if field.widget == "flow":
            flow = grant(value or DEFAULT_FLOW).name
            return w.Dropdown(options=FLOWS, value=flow, description=field.description, style=_WIDE, layout=_ROW)
        if field.widget == "wanted":
            wanted = tuple(given[part] for part in _WANTED_PARTS)
            if wanted not in dict(WANTED).values():
                raise ConfigError("{setting:jwt_only} and {setting:want_jwt} contradict each other; use one")
            return w.Dropdown(options=WANTED, value=wanted, description=field.description, style=_WIDE, layout=_ROW)
        if option.kind in ("on", "off"):
            return w.Checkbox(value=bool(value), indent=False, description=field.description)
        if field.fallback:
            worked_out = _WORKED_OUT.get(option.setting)
            value = value or (worked_out(self.settings) if worked_out else self.settings.get(option.setting, ""))
        elif option.default is not None:
            value = value or option.default
        text = "" if value is None else f"{value:g}" if option.kind == "float" else str(value)
        return w.Text(
            value=text, description=field.description, placeholder=field.placeholder, style=_WIDE, layout=_ROW
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    # -- reading the form ------------------------------------------------------------------------
    def _secret_source(self, typed: str = "") -> SecretSource:
        return SecretSource(typed=typed, **self._read("secret"))

    def _read(self, to: str) -> dict:
        """The keywords for ``to`` (see `options.routed`) from the fields as the user left them."""
        return routed(
            {option.setting: self._value(option) for option in FORM_OPTIONS if option.to and option.to[0] == to}, to
        )

    def _value(self, option: Option):
        field = option.field
        if field is None:
            return getattr(self, option.setting)
        value = getattr(self, field.attr).value
        if field.widget == "wanted":
            return value[_WANTED_PARTS.index(option.setting)]
        if not isinstance(value, str):
            return value
        value = value.strip()
        if option.kind in ("int", "float"):
            value = self._number(value, int if option.kind == "int" else float, field.noun)
        if option.to and option.to[0] != "request" and value in ("", None):
            return option.default  # '' for the request means none, not the configured one
        return value

    def _show_secret_source(self) -> None:
        """Under the secret field: where the secret comes from when the field stays empty."""
        if self.secret.value:
            self.secret_note.value = ""
            return
        try:
            _, source = self._secret_source().found(self.logins.variables.namespace)
        except IyoError as exc:
            source, problem = "", exc.worded(FIELD_LABELS)
        else:
            problem = ""
        if source == "variable":
            note = f"Empty: the secret is taken from the notebook variable {escape(self.secret_var or '')}."
        elif source:
            note = f"Empty: the secret is taken from {escape(source)} in the kernel's environment."
        else:
            note = escape(problem)
        self.secret_note.value = f"<small>{note}</small>" if note else ""

    def _number(self, text: str, kind: type, what: str):
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            raise ConfigError(f"{what} must be a {'whole ' if kind is int else ''}number of seconds") from None

    def _request(self):
        return request_from(self.settings, **self._read("request"))

    def _browser(self) -> BrowserOptions:
        return BrowserOptions(self.settings["browser"], **self._read("browser"))

    # -- events ----------------------------------------------------------------------------------
    def _on_submit(self, _button=None) -> None:
        if self.busy:
            return
        typed, self.secret.value = self.secret.value, ""  # out of the widget state at once
        try:
            request, browser, source = self._request(), self._browser(), self._secret_source(typed)
            found = source.found(self.logins.variables.namespace)[0]
            if not (found or self.remember.value or without_secret(request)):
                raise ConfigError("enter the client secret (or set IYO_CLIENT_SECRET in the kernel's environment)")
        except IyoError as exc:
            self._show_error(exc.worded(FIELD_LABELS))
            return
        self._cancel = threading.Event()
        self._set_busy(True, "Working…")
        self.message.value = ""
        self.worker = threading.Thread(
            target=self._work, args=(request, browser, source), daemon=True, name="iyo-login-form"
        )
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
    def _work(self, request, browser: BrowserOptions, source: SecretSource) -> None:
        cancel = self._cancel
        display = BrowserDisplay(
            show_link=self._show_link, ask_pasted=self._ask_pasted, notice=self._notice, cancelled=cancel.is_set
        )
        try:
            remember = self.remember.value  # remembering, a valid JWT of the same login is reused
            outcome = self.logins.login(
                self.prefix, request, source, browser, display, fresh=not remember, remember=remember
            )
            if cancel.is_set():
                return
            self.result = outcome.result
            self._show_result(outcome.result)
            if outcome.result.auth is not None:
                threading.Thread(target=self._tick, args=(outcome.result,), daemon=True, name="iyo-card").start()
        except IyoError as exc:
            if not cancel.is_set():
                self._show_error(exc.worded(FIELD_LABELS))
        except Exception as exc:  # a bug: keep its traceback in the log, show one line here
            log.exception("login form failed")
            self._show_error(f"unexpected error ({type(exc).__name__}); see the kernel log")
        finally:
            if not cancel.is_set():
                self._set_busy(False)
            self.paste_box.layout.display = "none"
            self._show_secret_source()

    def _show_link(self, url: str):
        self.link.value = (
            f'<a href="{escape(url)}" target="_blank" rel="noopener" class="iyo-login-link">'
            "Log in at ItsYou.online</a> — then authorize; this form waits."
        )
        if self.paste_mode.value:
            self.paste_box.layout.display = "flex"

        def withdraw(note: str) -> None:
            self.link.value = f"<em>{escape(note)}</em>"

        return withdraw

    def _notice(self, text: str) -> None:
        self.progress.value = escape(worded(text, FIELD_LABELS))

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

    def _show_error(self, text: str) -> None:
        self.message.value = f"<span style='color:#b00020' class='iyo-error'>{escape(text)}</span>"

    def _show_result(self, result) -> None:
        self.message.value = f"<span class='iyo-success'>{escape(summary(result, self.prefix))}</span>"
        self._render_card(result)

    def _render_card(self, result) -> None:
        if result.auth is None:
            self.card.value = ""
            return
        self.card.value = jwt_card(
            result.auth.jwt,
            asked=result.request.scopes,
            variables=variable_names(result, self.prefix),
            access_token=result.access_token,
        )

    def _tick(self, result: LoginResult) -> None:
        """The card's live countdown, while this result is the form's and the JWT is valid."""
        while self.result is result and self.card.comm is not None:
            time.sleep(1)
            self._render_card(result)
            if result.auth is None or result.auth.jwt.expired:
                return


def _shell():
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise ConfigError("LoginForm needs IPython: run it in a notebook")
    return shell
