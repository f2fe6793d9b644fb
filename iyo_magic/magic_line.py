"""The ``%iyo_token`` line: its options (in the groups ``%iyo_token?`` shows), its words as typed,
and which of them may be a secret that must leave the history.

The options are declared once, here: `with_options` builds the magic's parser from them, and
`suspicious_words` reads the same table to tell an option's value from a stray word, without
reaching into argparse.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, cast

from IPython.core.magic_arguments import MagicArgumentParser

from .grants import FLOW_NAMES, flow_help
from .settings import DEFAULT_WAIT, SECRET_ENV

DEFAULT_PREFIX = "iyo"
ON = {"action": "store_true"}

#: (group title, [(flags, add_argument keywords)]), in the order ``%iyo_token?`` shows them.
OPTION_GROUPS: list[tuple[str, list[tuple[tuple[str, ...], dict[str, Any]]]]] = [
    (
        "flow and credentials",
        [
            (
                ("-p", "--profile"),
                {
                    "metavar": "NAME",
                    "help": "Settings from a named profile (profiles.toml in the config directory, or "
                    "%%config IyoMagics.profiles); flags on the line win.",
                },
            ),
            (
                ("-f", "--flow"),
                {
                    "choices": FLOW_NAMES,
                    "metavar": "FLOW",
                    "help": flow_help(),
                },
            ),
            (("--client-id",), {"metavar": "ID", "help": "Organization globalid, or a user API key's applicationid."}),
            (
                ("--secret-env",),
                {"metavar": "NAME", "help": f"Environment variable holding the client secret (default {SECRET_ENV})."},
            ),
            (("--secret-var",), {"metavar": "NAME", "help": "Notebook variable holding the client secret."}),
            (("--base-url",), {"metavar": "URL", "help": "ItsYou.online base URL."}),
            (("--cockpit",), {"metavar": "URL", "help": "Cockpit API base URL; makes <prefix>_cockpit."}),
        ],
    ),
    (
        "JWT",
        [
            (
                ("--scope",),
                {
                    "action": "append",
                    "default": [],
                    "metavar": "LIST",
                    "help": "JWT scopes, comma-separated, may repeat; e.g. user:memberof:myorg.",
                },
            ),
            (
                ("--aud",),
                {
                    "action": "append",
                    "default": [],
                    "metavar": "LIST",
                    "help": "JWT audiences, comma-separated, may repeat; e.g. the Cockpit's organization.",
                },
            ),
            (("--validity",), {"type": int, "metavar": "SECONDS", "help": "JWT lifetime (can only shorten it)."}),
            (("--no-refresh",), {**ON, "help": "No offline_access: the JWT is renewed by a new login instead."}),
            (("--no-jwt",), {**ON, "help": "Get the access token only."}),
            (("--jwt-only",), {**ON, "help": "One round trip (response_type=id_token): a JWT, no access token."}),
        ],
    ),
    (
        "browser (authorization_code flow)",
        [
            (("--redirect-uri",), {"metavar": "URI", "help": "Redirect URI registered on the API key."}),
            (
                ("--listen",),
                {"metavar": "[HOST:]PORT", "help": "Where the loopback listener waits (default: the redirect URI's)."},
            ),
            (("--paste",), {**ON, "help": "Paste the address the browser ended on instead of listening."}),
            (("--no-browser",), {**ON, "help": "Show the login link without opening a browser."}),
            (
                ("--wait",),
                {
                    "type": float,
                    "default": DEFAULT_WAIT,
                    "metavar": "SECONDS",
                    "help": f"How long to wait for the browser (default {DEFAULT_WAIT:g}).",
                },
            ),
        ],
    ),
    (
        "output and state",
        [
            (
                ("-o", "--prefix"),
                {"default": DEFAULT_PREFIX, "metavar": "NAME", "help": "Prefix of the variables (default iyo)."},
            ),
            (("--form",), {**ON, "help": "Show the login form, filled from these options."}),
            (("--status",), {**ON, "help": "Show what is stored (masked), with expiry."}),
            (("--clear",), {**ON, "help": "Forget the tokens of this prefix."}),
            (("--fresh",), {**ON, "help": "Log in again even if an identical call's JWT is still valid."}),
            (
                ("--remember",),
                {
                    **ON,
                    "help": "Keep this login's refreshable JWT (never the secret) in the system keyring, else a "
                    "private file, so that the same call in a later kernel refreshes it instead of logging in.",
                },
            ),
            (
                ("--logout",),
                {**ON, "help": "Forget the tokens of this prefix and the remembered JWT; say what stays valid."},
            ),
        ],
    ),
]

#: Every option string, and whether it takes a value.
TAKES_VALUE = {
    flag: options.get("action") != "store_true"
    for _, group in OPTION_GROUPS
    for flags, options in group
    for flag in flags
}


class OptionedMagic(Protocol):
    """A magic that `with_options` gave its options."""

    #: The magic's parser (built on first use).
    parser_for_line: Callable[[], MagicArgumentParser]
    #: Its full help, which IPython's ``%iyo_token?`` reads.
    getdoc: Callable[[], str]

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def with_options(func: Callable[..., Any]) -> OptionedMagic:
    """Give the magic its options. The parser is built on first use and the full help (the
    options in their groups) when ``%iyo_token?`` asks (IPython calls ``getdoc()`` first), so
    ``%load_ext`` does not pay for formatting help that nobody reads."""
    description = func.__doc__
    built: list[MagicArgumentParser] = []

    def parser() -> MagicArgumentParser:
        if not built:
            built.append(_parser(description))
        return built[0]

    magic = cast(OptionedMagic, func)  # a function takes attributes: it becomes one once they are set
    magic.parser_for_line = parser
    magic.getdoc = lambda: parser().format_help()
    return magic


def _parser(description: str | None) -> MagicArgumentParser:
    parser = MagicArgumentParser("iyo_token", description=description)
    for title, group in OPTION_GROUPS:
        section = parser.add_argument_group(title)
        for flags, options in group:
            section.add_argument(*flags, **options)
    return parser


class Word:
    """A word of the line: as typed (quotes, backslashes) and as the shell reads it."""

    __slots__ = ("typed", "value")

    def __init__(self, typed: str, value: str) -> None:
        self.typed, self.value = typed, value

    def __repr__(self) -> str:
        return f"Word({self.typed!r})"


def words(line: str) -> list[Word]:
    """The line's words, POSIX-shell style; an unbalanced quote falls back to plain splitting."""
    found: list[Word] = []
    index, end = 0, len(line)
    while index < end:
        if line[index].isspace():
            index += 1
            continue
        start, value = index, []
        while index < end and not line[index].isspace():
            char = line[index]
            if char == "\\" and index + 1 < end:
                value.append(line[index + 1])
                index += 2
            elif char in "'\"":
                closing = line.find(char, index + 1) if char == "'" else _closing_double_quote(line, index + 1)
                if closing < 0:
                    return [Word(part, part) for part in line.split()]
                inner = line[index + 1 : closing]
                value.append(inner if char == "'" else _unescape_double_quoted(inner))
                index = closing + 1
            else:
                value.append(char)
                index += 1
        found.append(Word(line[start:index], "".join(value)))
    return found


def _closing_double_quote(line: str, index: int) -> int:
    while index < len(line):
        if line[index] == "\\":
            index += 2
        elif line[index] == '"':
            return index
        else:
            index += 1
    return -1


def _unescape_double_quoted(text: str) -> str:
    out, index = [], 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in '\\"$`':
            out.append(text[index + 1])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def suspicious_words(line: str) -> list[Word]:
    """Words that are neither a known option nor the value of one: maybe a secret. For
    ``KEY=value`` and an unknown ``--option=value``, the value."""
    found, items, index = [], words(line), 0
    while index < len(items):
        word = items[index]
        name, has_value, _ = word.value.partition("=")
        takes_value = TAKES_VALUE.get(name)
        if takes_value is None:
            if has_value or not word.value.startswith("-"):  # an unknown option's name is no secret
                found.append(_value_part(word) if has_value else word)
            index += 1
        else:
            index += 1 if has_value or not takes_value else 2
    return [word for word in found if word.value]


def values_of(line: str, *options: str) -> list[Word]:
    """The words given as the value of any of ``options`` (``--opt value`` or ``--opt=value``)."""
    found, items = [], words(line)
    for index, word in enumerate(items):
        name, has_value, _ = word.value.partition("=")
        if name in options:
            if has_value:
                found.append(_value_part(word))
            elif index + 1 < len(items):
                found.append(items[index + 1])
    return found


#: Either prints ``%iyo_token?``'s help (the parser has no help option of its own).
HELP_FLAGS = ("-h", "--help")


def asks_for_help(line: str) -> bool:
    return any(word.value in HELP_FLAGS for word in words(line))


def options_given(line: str) -> list[str]:
    """The option names on the line (no values), for messages that must not echo a value."""
    return sorted({word.value.split("=", 1)[0] for word in words(line) if word.value.startswith("-")})


def _value_part(word: Word) -> Word:
    """The ``value`` of ``KEY=value`` as typed and as read."""
    typed = word.typed.split("=", 1)[1] if "=" in word.typed else word.typed
    return Word(typed, word.value.split("=", 1)[1])
