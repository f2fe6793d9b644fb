"""The options of a notebook login, in one table: ``%iyo_token``'s flags (in the groups
``%iyo_token?`` shows), the form's keywords and fields, where each value goes (the
`LoginRequest`, the browser step, the secret's source) and how each front end names it in a
message (``{setting:NAME}``, see `errors.worded`).

`notebook.line` builds the magic's parser from it, `notebook.magic` and `notebook.form` read it to turn what they
were given into a login. A new option is a row here, plus the code that uses its value.

A leaf module: it imports nothing of the package but other leaves, and no I/O.
"""

from __future__ import annotations

from typing import Any

from ..oauth.grants import FLOW_NAMES, flow_help
from ..settings import DEFAULT_WAIT, SECRET_ENV

DEFAULT_PREFIX = "iyo"


class Field:
    """An option's field in the form: the form's attribute, its widget (``text``: a text box, or
    a checkbox for an ``on`` or ``off`` option; or the ``flow`` and ``wanted`` dropdowns), where
    it sits, and what it starts from."""

    __slots__ = ("attr", "widget", "description", "placeholder", "place", "slot", "fallback", "noun")

    def __init__(
        self,
        attr: str,
        description: str,
        *,
        widget: str = "text",
        placeholder: str = "",
        place: str = "main",
        slot: int,
        fallback: bool = False,
        noun: str = "",
    ) -> None:
        self.attr = attr
        self.description = description
        self.widget = widget
        self.placeholder = placeholder
        #: "main" or "advanced" (the Advanced section); ``slot`` orders the fields of a place.
        self.place = place
        self.slot = slot
        #: Empty when not given: starts from the configured setting of the same name.
        self.fallback = fallback
        #: How a number field's error names it ("... must be a number of seconds").
        self.noun = noun


class Option:
    """One option. ``setting`` names it everywhere: in messages (``{setting:NAME}``), as
    `LoginForm`'s keyword, and in a profile.

    ``kind`` is how the line takes it: ``text``, ``list`` (comma-separated, may repeat), ``int``,
    ``float``, ``on`` (a flag that sets it True) or ``off`` (a flag that sets it False, as
    ``--no-refresh`` does ``refreshable``). ``to`` is (where the value goes, under which keyword):
    ``request`` (`request_from`), ``browser`` (`BrowserOptions`) or ``secret`` (`SecretSource`);
    None when a front end uses it itself.
    """

    __slots__ = (
        "setting",
        "flags",
        "kind",
        "metavar",
        "help",
        "default",
        "choices",
        "to",
        "form",
        "field",
        "profile",
        "flag_label",
        "field_label",
        "group",
    )

    def __init__(
        self,
        setting: str,
        flags: tuple[str, ...] = (),
        *,
        kind: str = "text",
        metavar: str | None = None,
        help: str = "",
        default: Any = None,
        choices: tuple[str, ...] = (),
        to: tuple[str, str] | None = None,
        form: bool = False,
        field: Field | None = None,
        profile: bool = False,
        flag_label: str = "",
        field_label: str = "",
    ) -> None:
        self.setting = setting
        self.flags = flags
        self.kind = kind
        self.metavar = metavar
        self.help = help
        #: The value when not given (for ``on`` and ``off``: False and True).
        self.default = {"on": False, "off": True}.get(kind, default)
        self.choices = choices
        self.to = to
        #: `LoginForm` takes it as a keyword (``%iyo_token --form`` passes it on); ``field`` shows it.
        self.form = form or field is not None
        self.field = field
        #: A profile (``-p NAME``) may set it.
        self.profile = profile
        #: How the magic and the form name it in a message ('' where no message does).
        self.flag_label = flag_label
        self.field_label = field_label
        self.group = ""

    @property
    def dest(self) -> str:
        """Its name on the magic's parsed line (as argparse names it)."""
        flag = next((flag for flag in self.flags if flag.startswith("--")), self.setting)
        return flag.lstrip("-").replace("-", "_")

    def __repr__(self) -> str:
        return f"<Option {self.setting}>"


def _grouped(*groups: tuple[str, tuple[Option, ...]]) -> tuple[Option, ...]:
    for title, options in groups:
        for option in options:
            option.group = title
    return tuple(option for _, options in groups for option in options)


#: Every option, in the order (and groups) that ``%iyo_token?`` shows.
OPTIONS: tuple[Option, ...] = _grouped(
    (
        "flow and credentials",
        (
            Option(
                "profile",
                ("-p", "--profile"),
                metavar="NAME",
                help="Settings from a named profile (profiles.toml in the config directory, or "
                "%%config IyoMagics.profiles); flags on the line win.",
            ),
            Option(
                "flow",
                ("-f", "--flow"),
                choices=FLOW_NAMES,
                metavar="FLOW",
                help=flow_help(),
                to=("request", "flow"),
                field=Field("flow", "Flow", widget="flow", slot=0),
                profile=True,
            ),
            Option(
                "client_id",
                ("--client-id",),
                metavar="ID",
                help="Organization globalid, or a user API key's applicationid.",
                to=("request", "client_id"),
                field=Field(
                    "client_id",
                    "Client id",
                    placeholder="organization globalid or API key application id",
                    slot=1,
                    fallback=True,
                ),
                profile=True,
                flag_label="--client-id (or IYO_CLIENT_ID)",
                field_label="the Client id field",
            ),
            Option(
                "secret_env",
                ("--secret-env",),
                metavar="NAME",
                help=f"Environment variable holding the client secret (default {SECRET_ENV}).",
                to=("secret", "env"),
                form=True,
                profile=True,
                flag_label="--secret-env NAME",
                field_label="the variable named by secret_env",
            ),
            Option(
                "secret_var",
                ("--secret-var",),
                metavar="NAME",
                help="Notebook variable holding the client secret.",
                to=("secret", "variable"),
                form=True,
                flag_label="--secret-var NAME",
                field_label="the notebook variable named for the secret",
            ),
            Option(
                "base_url",
                ("--base-url",),
                metavar="URL",
                help="ItsYou.online base URL.",
                to=("request", "base_url"),
                field=Field("base_url", "ItsYou.online", place="advanced", slot=0, fallback=True),
                profile=True,
                flag_label="--base-url (or IYO_BASE_URL)",
                field_label="the ItsYou.online field (Advanced)",
            ),
            Option(
                "cockpit_url",
                ("--cockpit",),
                metavar="URL",
                help="Cockpit API base URL; makes <prefix>_cockpit.",
                to=("request", "cockpit_url"),
                field=Field("cockpit_url", "Cockpit URL", place="advanced", slot=1, fallback=True),
                profile=True,
                flag_label="--cockpit (or IYO_COCKPIT_URL)",
                field_label="the Cockpit URL field (Advanced)",
            ),
        ),
    ),
    (
        "JWT",
        (
            Option(
                "scope",
                ("--scope",),
                kind="list",
                metavar="LIST",
                help="JWT scopes, comma-separated, may repeat; e.g. user:memberof:myorg.",
                to=("request", "scopes"),
                field=Field("scope", "JWT scope", placeholder="e.g. user:memberof:ORG (comma-separated)", slot=3),
                profile=True,
            ),
            Option(
                "aud",
                ("--aud",),
                kind="list",
                metavar="LIST",
                help="JWT audiences, comma-separated, may repeat; e.g. the Cockpit's organization.",
                to=("request", "audiences"),
                field=Field("aud", "Audience", placeholder="e.g. ORG, the Cockpit's organization", slot=4),
                profile=True,
            ),
            Option(
                "validity",
                ("--validity",),
                kind="int",
                metavar="SECONDS",
                help="JWT lifetime (can only shorten it).",
                to=("request", "validity"),
                field=Field("validity", "Validity (s)", placeholder="seconds; empty: 24 h", slot=5, noun="validity"),
                flag_label="--validity",
                field_label="the Validity field",
            ),
            Option(
                "refreshable",
                ("--no-refresh",),
                kind="off",
                help="No offline_access: the JWT is renewed by a new login instead.",
                to=("request", "refreshable"),
                field=Field("refreshable", "Refreshable JWT (offline_access)", place="advanced", slot=3),
            ),
            Option(
                "want_jwt",
                ("--no-jwt",),
                kind="off",
                help="Get the access token only.",
                to=("request", "want_jwt"),
                field=Field("wanted", "Get", widget="wanted", place="advanced", slot=2),
                flag_label="--no-jwt",
                field_label="'Access token only'",
            ),
            Option(
                "jwt_only",
                ("--jwt-only",),
                kind="on",
                help="One round trip (response_type=id_token): a JWT, no access token.",
                to=("request", "jwt_only"),
                field=Field("wanted", "Get", widget="wanted", place="advanced", slot=2),
                flag_label="--jwt-only",
                field_label="'JWT only'",
            ),
        ),
    ),
    (
        "browser (authorization_code flow)",
        (
            Option(
                "redirect_uri",
                ("--redirect-uri",),
                metavar="URI",
                help="Redirect URI registered on the API key.",
                to=("request", "redirect_uri"),
                field=Field("redirect_uri", "Redirect URI", place="advanced", slot=4, fallback=True),
                profile=True,
                flag_label="--redirect-uri (or IYO_REDIRECT_URI)",
                field_label="the Redirect URI field (Advanced)",
            ),
            Option(
                "listen",
                ("--listen",),
                metavar="[HOST:]PORT",
                help="Where the loopback listener waits (default: the redirect URI's).",
                to=("browser", "listen"),
                field=Field(
                    "listen",
                    "Listen on",
                    placeholder="[127.0.0.1:]PORT; empty: the redirect URI's",
                    place="advanced",
                    slot=5,
                ),
                flag_label="--listen PORT",
                field_label="the Listen on field (Advanced)",
            ),
            Option(
                "paste",
                ("--paste",),
                kind="on",
                help="Paste the address the browser ended on instead of listening.",
                to=("browser", "paste"),
                field=Field(
                    "paste_mode", "Remote kernel: paste the address the browser ends on", place="advanced", slot=7
                ),
                flag_label="--paste",
                field_label="'Remote kernel: paste…' (Advanced)",
            ),
            Option(
                "no_browser",
                ("--no-browser",),
                kind="on",
                help="Show the login link without opening a browser.",
                to=("browser", "no_browser"),
                form=True,
            ),
            Option(
                "wait",
                ("--wait",),
                kind="float",
                default=DEFAULT_WAIT,
                metavar="SECONDS",
                help=f"How long to wait for the browser (default {DEFAULT_WAIT:g}).",
                to=("browser", "wait"),
                field=Field("wait_seconds", "Wait (s)", place="advanced", slot=6, noun="Wait"),
                flag_label="--wait SECONDS",
                field_label="the Wait field (Advanced)",
            ),
        ),
    ),
    (
        "output and state",
        (
            Option(
                "prefix",
                ("-o", "--prefix"),
                default=DEFAULT_PREFIX,
                metavar="NAME",
                help="Prefix of the variables (default iyo).",
                form=True,
                flag_label="--prefix",
                field_label="the prefix",
            ),
            Option("form", ("--form",), kind="on", help="Show the login form, filled from these options."),
            Option("status", ("--status",), kind="on", help="Show what is stored (masked), with expiry."),
            Option("clear", ("--clear",), kind="on", help="Forget the tokens of this prefix."),
            Option(
                "fresh", ("--fresh",), kind="on", help="Log in again even if an identical call's JWT is still valid."
            ),
            Option(
                "remember",
                ("--remember",),
                kind="on",
                help="Keep this login's refreshable JWT (never the secret) in the system keyring, else a "
                "private file, so that the same call in a later kernel refreshes it instead of logging in.",
                field=Field(
                    "remember",
                    "Remember: a later kernel refreshes this JWT instead of logging in (never the secret)",
                    slot=6,
                ),
                profile=True,
            ),
            Option(
                "logout",
                ("--logout",),
                kind="on",
                help="Forget the tokens of this prefix and the remembered JWT, wherever it is kept; say what "
                "stays valid and which other remembered logins remain.",
            ),
            Option(
                "all",
                ("--all",),
                kind="on",
                help="With --logout: forget every remembered login of this user.",
            ),
        ),
    ),
    (
        # Settings of %config IyoMagics (and the environment) only: named in messages, not on the line.
        "",
        (
            Option("browser", flag_label="IyoMagics.browser", field_label="%config IyoMagics.browser"),
            Option(
                "timeout",
                flag_label="%config IyoMagics.timeout (or IYO_TIMEOUT)",
                field_label="%config IyoMagics.timeout (or IYO_TIMEOUT)",
            ),
            Option(
                "ca_bundle",
                flag_label="%config IyoMagics.ca_bundle (or IYO_CA_BUNDLE)",
                field_label="%config IyoMagics.ca_bundle (or IYO_CA_BUNDLE)",
            ),
        ),
    ),
)
#: The options that `LoginForm` takes as keywords, in the order of its signature.
FORM_OPTIONS = tuple(option for option in OPTIONS if option.form)


def labels(front: str) -> dict[str, str]:
    """How the front end ``front`` ("flag" or "field") names each setting in a message."""
    found = {option.setting: getattr(option, f"{front}_label") for option in OPTIONS}
    return {setting: label for setting, label in found.items() if label}


def from_line(args: Any) -> dict[str, Any]:
    """The settings that the magic's parsed line gives (None where not given): ``off`` flags
    as their setting's value, lists as one comma-separated text."""
    given = {}
    for option in OPTIONS:
        if not option.flags:
            continue
        value = getattr(args, option.dest)
        if option.kind == "off":
            value = not value
        elif option.kind == "list":
            value = ",".join(value)
        given[option.setting] = value
    return given


def routed(given: dict[str, Any], to: str) -> dict[str, Any]:
    """The keywords, among ``given`` (settings by name), for ``to`` ("request", "browser" or "secret")."""
    return {
        option.to[1]: given[option.setting]
        for option in OPTIONS
        if option.to is not None and option.to[0] == to and option.setting in given
    }
