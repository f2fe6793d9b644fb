"""Where an ItsYou.online JWT (or a known secret) hides in text and in a notebook, and the marker
that takes its place: what the Jupyter server's save guard and ``iyo-magic scan`` share.

A JWT counts when it is one ItsYou.online issued: a compact JWS whose header names ES384 and
whose claims say ``iss`` is ``itsyouonline``, read without checking the signature (a token
signed by another key is still somebody's token). Text is read as one piece across the lines it
is stored in (a list of lines, consecutive stream outputs), through line breaks and zero-width
characters inside a token, with a ``.`` written as ``&#46;``, ``%2E``, ``\\u002e`` or ``\\x2e``, and
into base64 (either alphabet) that decodes to one. Other encodings (a token's other characters
escaped, base64 of base64, compressed data) are not looked into. No I/O here.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import functools
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Union

from .durations import utc_time
from .tokens import ISSUER, JWT_ALGORITHM

JWT_KIND = "JWT"
SECRET_KIND = "IYO_CLIENT_SECRET value"
SECRET_MARKER = "«client secret removed by iyo_magic»"
#: A secret shorter than this is not searched for: it would match ordinary text.
SHORTEST_SECRET = 8
#: An ES384 signature is 96 bytes: 128 characters of base64url. A match stops there, so a token
#: followed by a line break does not take the next line's first word with it.
SIGNATURE_CHARS = 128

#: Shorter or longer parts are not taken for a JWT's: base64url of at least ``{"alg":"ES384"}``
#: and ``{"iss":"itsyouonline"}``, and far more than ItsYou.online puts in one.
SHORTEST_HEADER, SHORTEST_CLAIMS = 20, 30
LONGEST_HEADER, LONGEST_CLAIMS = 4096, 65536
_TOKEN_CHARS = re.compile(r"[\w-]*")
_SIGNATURE = re.compile(rf"[\w-]{{0,{SIGNATURE_CHARS}}}")
#: Left out before looking: line breaks, and characters that show as nothing (zero-width space,
#: joiners, word joiner, byte order mark, soft hyphen), which no token holds.
_BREAK_CHARS = "\r\n\u200b\u200c\u200d\u2060\ufeff\u00ad"
_BREAKS = re.compile(f"[{_BREAK_CHARS}]+")
#: A ``.`` written as an HTML entity, a %-escape, or a JSON/Python escape: read as ``.``.
_DOT_ESCAPE_FORMS = (
    [f"&#{zeros}46;" for zeros in ("", "0", "00")]
    + [f"&#{x}{zeros}2{e};" for x in "xX" for zeros in ("", "0", "00") for e in "eE"]
    + ["&period;"]
    + [f"{escape}{e}" for escape in ("%2", "\\u002", "\\x2") for e in "eE"]
)
_DOT_ESCAPES = re.compile("|".join(map(re.escape, _DOT_ESCAPE_FORMS)))
#: How far from what it must contain a base64 token is looked for (a JWT of up to 12 kB).
BASE64_REACH = 16384
#: A whole ItsYou.online JWT in base64 is longer than this (its signature alone is 128 characters).
SHORTEST_BASE64_JWT = 200
_BASE64_CHARS = re.compile(r"[A-Za-z0-9+/_-]*")
#: Past this many places that base64 of a token would hold, every long run of base64 is decoded.
_MOST_HITS = 2000
_BASE64_ALPHABET = str.maketrans("-_", "+/")
_URLSAFE_ALPHABET = str.maketrans("+/", "-_")
_SHOWN_NAME = re.compile(r"[^\w.@:-]")

#: Something that holds a string at a key: a JSON object and its key, or a JSON array and an index.
Slot = tuple[Union[dict[str, Any], list[Any]], Any]


@functools.lru_cache(maxsize=256)  # a text repeating one part costs one decoding
def _json_object(part: str) -> dict[str, Any] | None:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def issued_claims(candidate: str) -> dict[str, Any] | None:
    """The claims of ``candidate`` when it is a JWT that ItsYou.online issued, else None."""
    parts = candidate.split(".")
    if len(parts) != 3:
        return None
    header = _json_object(parts[0])
    if header is None or header.get("alg") != JWT_ALGORITHM:
        return None
    claims = _json_object(parts[1])
    if claims is None or claims.get("iss") != ISSUER:
        return None
    return claims


def marker(claims: dict[str, Any]) -> str:
    """What replaces a JWT: whose it was and when it expires, no part of the token."""
    who = ""
    for claim in ("username", "globalid", "azp"):
        value = claims.get(claim)
        if isinstance(value, str) and value:
            who = f"{claim} {_SHOWN_NAME.sub('', value)[:64]}"
            break
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool) and 0 <= exp < 1e11:
        when = f"expires {utc_time(float(exp))}"
    else:
        when = "no expiry"
    return f"«JWT removed by iyo_magic: {', '.join(part for part in (who, when) if part)}»"


def usable_secrets(secrets: Iterable[str | None]) -> list[str]:
    """The secrets worth looking for (set, and not so short that ordinary text holds them)."""
    return [secret for secret in secrets if secret and len(secret) >= SHORTEST_SECRET]


class _Rewrite:
    """``source`` with each match of ``pattern`` replaced by ``replacement`` (``view``), and the way
    back from an offset in the view to one in the source (worked out only when asked)."""

    def __init__(
        self, source: str, pattern: re.Pattern[str], replacement: str, chars: str = "", forms: Iterable[str] = ()
    ) -> None:
        """``chars``: the characters ``pattern`` matches when it removes runs of them; ``forms``:
        the strings it matches otherwise (each looked for first: quicker than the pattern)."""
        self.source, self.pattern, self.width = source, pattern, len(replacement)
        self.view = source
        for char in chars:
            if char in self.view:
                self.view = self.view.replace(char, "")
        firsts = {form[0] for form in forms if form[0] in source}
        if any(form in source for form in forms if form[0] in firsts):
            self.view = pattern.sub(replacement, source)
        self._ends: list[int] | None = None
        self._deltas: list[int] = [0]

    def _index(self) -> list[int]:
        if self._ends is None:
            self._ends = []
            delta = 0
            for match in self.pattern.finditer(self.source) if self.view is not self.source else ():
                self._ends.append(match.start() - delta + self.width)
                delta += match.end() - match.start() - self.width
                self._deltas.append(delta)
        return self._ends

    def start(self, offset: int) -> int:
        """Where the view's character at ``offset`` begins in the source."""
        return offset + self._deltas[bisect.bisect_right(self._index(), offset)]

    def end(self, offset: int) -> int:
        """Where a stretch of the view ending (exclusive) at ``offset`` ends in the source."""
        ends = self._index()
        before = bisect.bisect_right(ends, offset) if self.width else bisect.bisect_left(ends, offset)
        return offset + self._deltas[before]


#: A finding in a text: where it starts and ends, its kind, and the marker that replaces it.
Span = tuple[int, int, str, str]


@functools.lru_cache(maxsize=64)
def _base64_needles(data: bytes) -> frozenset[str]:
    """What the base64 of any text holding ``data`` contains, whatever the alignment: for each of
    the three, the characters that ``data``'s bits alone decide (in both alphabets)."""
    needles = set()
    for before in range(3):
        encoded = base64.b64encode(bytes(before) + data).decode("ascii")
        first, last = -(-8 * before // 6), (8 * (before + len(data))) // 6
        needles |= {encoded[first:last], encoded[first:last].translate(_URLSAFE_ALPHABET)}
    return frozenset(needles)


def _decoded(run: str) -> Iterator[tuple[int, bytes]]:
    """What a piece of base64 (either alphabet) decodes to from each of the four alignments, and
    where each starts."""
    run = run.rstrip("=").translate(_BASE64_ALPHABET)
    for start in range(4):
        part = run[start:]
        part = part[: len(part) - 1] if len(part) % 4 == 1 else part + "=" * (-len(part) % 4)
        try:
            yield start, base64.b64decode(part)
        except (ValueError, binascii.Error):
            continue


def _run_around(view: str, hit: int, low: int, high: int) -> tuple[int, int]:
    """The run of base64 characters (and its padding) in ``view[low:high]`` that holds ``hit``;
    its cost grows with the run, not the reach."""
    end = _BASE64_CHARS.match(view, hit, high).end()  # type: ignore[union-attr]  # matches nothing at worst
    end += len(view[end : min(end + 2, high)]) - len(view[end : min(end + 2, high)].lstrip("="))
    start, step = hit, 64
    while start > low:
        back = view[max(low, start - step) : start][::-1]
        length = _BASE64_CHARS.match(back).end()  # type: ignore[union-attr]
        start -= length
        if length < len(back):
            break
        step *= 4
    return start, end


def _base64_spans(view: str, secrets: list[str]) -> Iterator[Span]:
    """Each stretch of base64 in ``view`` that decodes to text holding an ItsYou.online JWT or a
    secret: looked for only around what such base64 must contain, and no further than
    ``BASE64_REACH`` characters from it."""
    wanted = [secret.encode() for secret in secrets]
    needles = _base64_needles(b"eyJ").union(*(_base64_needles(secret) for secret in wanted))
    shortest = min([SHORTEST_BASE64_JWT] + [len(secret) * 4 // 3 for secret in wanted])
    for start, end in _stretches(view, needles, shortest):
        run = view[start:end]
        for offset, data in _decoded(run):
            found = _decoded_token(data, wanted)
            if found is not None:
                (first, last), kind, shown = found
                # From the first to the last base64 character of the token's bytes (padding too).
                low, high = start + offset + first // 3 * 4, start + offset + -(-last // 3) * 4
                yield (low, end if high >= start + len(run.rstrip("=")) else high, kind, shown)
                break


def _stretches(view: str, needles: Iterable[str], shortest: int) -> Iterator[tuple[int, int]]:
    """The stretches of base64 in ``view`` worth decoding: the runs around each needle, or (when
    needles abound, as in text made of look-alikes) every run of ``shortest`` characters or more,
    in overlapping pieces."""
    hits: list[int] = []
    for needle in needles:
        hits += itertools.islice(_all(view, needle), _MOST_HITS - len(hits))
    if len(hits) < _MOST_HITS:
        looked = 0
        for hit in sorted(hits):
            if hit >= looked:
                start, end = _run_around(view, hit, max(0, hit - BASE64_REACH), min(len(view), hit + BASE64_REACH))
                looked = end
                if end - start >= shortest:
                    yield start, end
        return
    for run in re.finditer(rf"[A-Za-z0-9+/_-]{{{shortest},}}={{0,2}}", view):
        for start in range(run.start(), run.end(), BASE64_REACH):
            yield start, min(run.end(), start + 2 * BASE64_REACH)


def _decoded_token(data: bytes, wanted: list[bytes]) -> tuple[tuple[int, int], str, str] | None:
    """Where in ``data`` an ItsYou.online JWT or one of ``wanted`` is, its kind and its marker."""
    if b".eyJ" in data:
        for start, end, kind, shown in _jwt_spans(data.decode("latin-1")):  # a character a byte
            return (start, end), kind, shown
    for secret in wanted:
        at = data.find(secret)
        if at >= 0:
            return (at, at + len(secret)), SECRET_KIND, SECRET_MARKER
    return None


def _all(text: str, needle: str) -> Iterator[int]:
    start = text.find(needle)
    while start >= 0:
        yield start
        start = text.find(needle, start + 1)


def _word_start(text: str, end: int) -> int:
    """Where the run of token characters (``[\\w-]``) that ends at ``end`` starts."""
    start, step = end, 64
    while start > 0:
        back = text[max(0, start - step) : start][::-1]
        length = _TOKEN_CHARS.match(back).end()  # type: ignore[union-attr]  # matches nothing at worst
        start -= length
        if length < len(back):
            break
        step *= 4
    return start


def _jwt_spans(text: str) -> Iterator[Span]:
    """Each ItsYou.online JWT in ``text``: found from each ``.eyJ`` (where its claims begin), so
    that the work grows with the text, however many look-alikes it holds."""
    dot = text.find(".eyJ")
    while dot >= 0:
        claims_end = _TOKEN_CHARS.match(text, dot + 1).end()  # type: ignore[union-attr]
        found = None
        if SHORTEST_CLAIMS <= claims_end - dot - 1 <= LONGEST_CLAIMS and text[claims_end : claims_end + 1] == ".":
            end = _SIGNATURE.match(text, claims_end + 1).end()  # type: ignore[union-attr]
            low, high = max(_word_start(text, dot), dot - LONGEST_HEADER), dot - SHORTEST_HEADER + 3
            start, tries = text.rfind("eyJ", low, high), 0  # the shortest header first: text may be glued on
            while start >= 0 and tries < 16 and found is None:
                claims = issued_claims(text[start:end])
                found = None if claims is None else (start, end, JWT_KIND, marker(claims))
                start, tries = text.rfind("eyJ", low, start), tries + 1
        if found is not None:
            yield found
        dot = text.find(".eyJ", found[1] if found else claims_end)


def _view_spans(view: str, secrets: list[str]) -> list[Span]:
    found: list[Span] = list(_jwt_spans(view)) if ".eyJ" in view else []
    for secret in secrets:
        start = view.find(secret)
        while start >= 0:
            found.append((start, start + len(secret), SECRET_KIND, SECRET_MARKER))
            start = view.find(secret, start + len(secret))
    found += _base64_spans(view, secrets)
    return found


def spans(text: str, secrets: Iterable[str] = ()) -> list[Span]:
    """Each ItsYou.online JWT and each of ``secrets`` in ``text``: (start, end, kind, marker), in
    order, none overlapping. Found through line breaks and zero-width characters inside them, a
    ``.`` written as ``&#46;``, ``%2E`` or ``\\u002e``, and in base64 (a run that decodes to one)."""
    breaks = _Rewrite(text, _BREAKS, "", _BREAK_CHARS)
    view = breaks.view  # a JWT, its dots written however, begins with eyJ
    dots = _Rewrite(view, _DOT_ESCAPES, ".", forms=_DOT_ESCAPE_FORMS if "eyJ" in view else ())
    found = sorted(
        (breaks.start(dots.start(start)), breaks.end(dots.end(end)), kind, shown)
        for start, end, kind, shown in _view_spans(dots.view, [s for s in secrets if s])
    )
    merged: list[Span] = []
    for span in found:
        if merged and span[0] < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], span[1]), last[2], last[3])
        else:
            merged.append(span)
    return merged


def find(text: str, secrets: Iterable[str] = ()) -> list[tuple[int, str]]:
    """Where ``text`` holds an ItsYou.online JWT or one of ``secrets``: (offset, kind) pairs."""
    return [(start, kind) for start, _, kind, _ in spans(text, secrets)]


def mask_pieces(pieces: list[str], secrets: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """``pieces`` (one text stored in parts, such as a list of lines) with each ItsYou.online JWT
    and each of ``secrets`` replaced by a marker, read as one text; each piece keeps its place (a
    token over several pieces leaves its marker in the first). Also the kinds removed, one each."""
    found = spans("".join(pieces), secrets)
    if not found:
        return pieces, []
    result = []
    first = low = 0  # the first span that may reach the piece, and where the piece starts
    for piece in pieces:
        high = low + len(piece)
        while first < len(found) and found[first][1] <= low:
            first += 1
        kept, at = [], low
        for start, end, _, shown in found[first:]:
            if start >= high:
                break
            kept.append(piece[at - low : max(at, start) - low])
            if start >= low:
                kept.append(shown)
            at = max(at, min(end, high))
        kept.append(piece[at - low :])
        result.append("".join(kept))
        low = high
    return result, [kind for _, _, kind, _ in found]


def mask(text: str, secrets: Iterable[str] = ()) -> tuple[str, list[str]]:
    """``text`` with each ItsYou.online JWT and each of ``secrets`` replaced by a marker, and the
    kinds of what was removed (one entry per value)."""
    (masked,), removed = mask_pieces([text], secrets)
    return masked, removed


def _stream_text(item: Any) -> list[Slot] | None:
    """The slots of a stream output's text (a string or a list of lines), else None."""
    if not isinstance(item, dict) or item.get("output_type") != "stream" or "text" not in item:
        return None
    text = item["text"]
    if isinstance(text, str):
        return [(item, "text")]
    if isinstance(text, list) and all(isinstance(line, str) for line in text):
        return [(text, i) for i in range(len(text))]
    return None


def text_groups(container: dict[str, Any] | list[Any], key: Any) -> Iterator[list[Slot]]:
    """The strings at or under ``container[key]`` (JSON data), grouped as they are read: the
    strings next to each other in a list (nbformat's lists of lines) and the text of consecutive
    stream outputs are one group; any other string is a group of its own."""
    stack: list[Slot] = [(container, key)]
    while stack:
        parent, name = stack.pop()
        child = parent[name]
        if isinstance(child, str):
            yield [(parent, name)]
        elif isinstance(child, dict):
            stack.extend((child, k) for k in child)
        elif isinstance(child, list):
            group: list[Slot] = []
            for index, item in enumerate(child):
                stream = _stream_text(item)
                if isinstance(item, str):
                    group.append((child, index))
                elif stream is not None:
                    group += stream
                    stack.extend((item, k) for k in item if k != "text")
                else:
                    if group:
                        yield group
                    group = []
                    stack.append((child, index))
            if group:
                yield group


@dataclass(frozen=True)
class Place:
    """A part of a notebook: ``cell`` counted from 1 (None: the notebook's own metadata), and
    which part (``source``, ``output``, ``attachment``, ``cell metadata``, ``widget state``,
    ``metadata``)."""

    cell: int | None
    part: str


#: The parts of a notebook that the save guard cleans: all but sources (the user's code: scan reports them).
GUARDED_PARTS = ("output", "attachment", "cell metadata", "widget state", "metadata")


def _cells(notebook: dict[str, Any]) -> list[Any]:
    """The cells of an nbformat 4 notebook, or those of every worksheet of an nbformat 3 one."""
    cells = notebook.get("cells")
    if isinstance(cells, list):
        return cells
    worksheets = notebook.get("worksheets")
    return [
        cell
        for sheet in (worksheets if isinstance(worksheets, list) else [])
        if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list)
        for cell in sheet["cells"]
    ]


def notebook_parts(notebook: dict[str, Any]) -> Iterator[tuple[Place, dict[str, Any], str]]:
    """Each part of a notebook (its JSON; nbformat 4, or 3 with its worksheets) that can hold a
    token: where it is, and the object and key that hold it (a cell's parts: the cell)."""
    for number, cell in enumerate(_cells(notebook), 1):
        if not isinstance(cell, dict):
            continue
        for key, part in (
            ("source", "source"),
            ("input", "source"),  # a code cell's source in nbformat 3
            ("outputs", "output"),
            ("attachments", "attachment"),
        ):
            if key in cell:
                yield Place(number, part), cell, key
        if "metadata" in cell:
            yield Place(number, "cell metadata"), cell, "metadata"
    holders = [notebook.get("metadata")]
    worksheets = notebook.get("worksheets")
    if not isinstance(notebook.get("cells"), list) and isinstance(worksheets, list):
        holders += [sheet.get("metadata") for sheet in worksheets if isinstance(sheet, dict)]
    for metadata in holders:
        if isinstance(metadata, dict):
            for key in metadata:
                yield Place(None, "widget state" if key == "widgets" else "metadata"), metadata, key
