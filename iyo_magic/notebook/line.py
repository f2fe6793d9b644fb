"""The ``%iyo_token`` line: its options (in the groups ``%iyo_token?`` shows), its words as typed,
and which of them may be a secret that must leave the history.

The options are declared once, in `options.OPTIONS`: `with_options` builds the magic's parser
from them, and `suspicious_words` reads the same table to tell an option's value from a stray
word, without reaching into argparse.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Protocol, cast

from IPython.core.error import UsageError
from IPython.utils.process import arg_split

from .options import OPTIONS, Option

#: Every option string, and whether it takes a value.
TAKES_VALUE = {flag: option.kind not in ("on", "off") for option in OPTIONS for flag in option.flags}


class LineParser(argparse.ArgumentParser):
    """The magic's parser: a bad line is a `UsageError` (never an exit), and the help is laid out
    as IPython lays out a magic's (its formatter is imported only when someone asks for help)."""

    def __init__(self, prog: str, description: str | None) -> None:
        super().__init__(prog=prog, description=description, add_help=False)

    def error(self, message: str) -> Any:
        raise UsageError(message)

    def parse_argstring(self, line: str) -> argparse.Namespace:
        """Split ``line`` as IPython splits a magic's line (an unbalanced quote is a `ValueError`) and parse it."""
        return self.parse_args(arg_split(line, strict=True))

    def format_help(self) -> str:
        from IPython.core.magic_arguments import MagicHelpFormatter

        self.formatter_class = MagicHelpFormatter
        return super().format_help()


class OptionedMagic(Protocol):
    """A magic that `with_options` gave its options."""

    #: The magic's parser (built on first use).
    parser_for_line: Callable[[], LineParser]
    #: Its full help, which IPython's ``%iyo_token?`` reads.
    getdoc: Callable[[], str]

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


def with_options(func: Callable[..., Any]) -> OptionedMagic:
    """Give the magic its options. The parser is built on first use and the full help (the
    options in their groups) when ``%iyo_token?`` asks (IPython calls ``getdoc()`` first), so
    ``%load_ext`` does not pay for formatting help that nobody reads."""
    description = func.__doc__
    built: list[LineParser] = []

    def parser() -> LineParser:
        if not built:
            built.append(_parser(description))
        return built[0]

    magic = cast(OptionedMagic, func)  # a function takes attributes: it becomes one once they are set
    magic.parser_for_line = parser
    magic.getdoc = lambda: parser().format_help()
    return magic


def _parser(description: str | None) -> LineParser:
    parser = LineParser("iyo_token", description)
    sections: dict[str, Any] = {}
    for option in OPTIONS:
        if option.flags:
            if option.group not in sections:
                sections[option.group] = parser.add_argument_group(option.group)
            sections[option.group].add_argument(*option.flags, **_keywords(option))
    return parser


def _keywords(option: Option) -> dict[str, Any]:
    """argparse's ``add_argument`` keywords for ``option``."""
    if option.kind in ("on", "off"):
        return {"action": "store_true", "help": option.help}
    keywords: dict[str, Any] = {"metavar": option.metavar, "help": option.help}
    if option.kind == "list":
        keywords.update(action="append", default=[])
    elif option.default is not None:
        keywords["default"] = option.default
    if option.kind in ("int", "float"):
        keywords["type"] = int if option.kind == "int" else float
    if option.choices:
        keywords["choices"] = option.choices
    return keywords


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
