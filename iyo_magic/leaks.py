"""Where an ItsYou.online JWT (or a known secret) hides in text and in a notebook, and the marker
that takes its place: what the Jupyter server's save guard and ``iyo-magic scan`` share.

A JWT counts when it is one ItsYou.online issued: a compact JWS whose header names ES384 and
whose claims say ``iss`` is ``itsyouonline``, read without checking the signature (a token
signed by another key is still somebody's token). No I/O here.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Union

from .durations import utc_time
from .tokens import ISSUER, JWT_ALGORITHM, JWT_SHAPE

JWT_KIND = "JWT"
SECRET_KIND = "IYO_CLIENT_SECRET value"
SECRET_MARKER = "«client secret removed by iyo_magic»"
#: A secret shorter than this is not searched for: it would match ordinary text.
SHORTEST_SECRET = 8

_CANDIDATE = re.compile(JWT_SHAPE)
_SHOWN_NAME = re.compile(r"[^\w.@:-]")

#: Something that holds a string at a key: a JSON object and its key, or a JSON array and an index.
Slot = tuple[Union[dict[str, Any], list[Any]], Any]


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


def find(text: str, secrets: Iterable[str] = ()) -> list[tuple[int, str]]:
    """Where ``text`` holds an ItsYou.online JWT or one of ``secrets``: (offset, kind) pairs."""
    found = []
    if "eyJ" in text:
        found += [(m.start(), JWT_KIND) for m in _CANDIDATE.finditer(text) if issued_claims(m.group())]
    for secret in secrets:
        start = text.find(secret)
        while secret and start >= 0:
            found.append((start, SECRET_KIND))
            start = text.find(secret, start + len(secret))
    return sorted(found)


def mask(text: str, secrets: Iterable[str] = ()) -> tuple[str, list[str]]:
    """``text`` with each ItsYou.online JWT and each of ``secrets`` replaced by a marker, and the
    kinds of what was removed (one entry per value)."""
    removed: list[str] = []

    def masked(match: re.Match[str]) -> str:
        claims = issued_claims(match.group())
        if claims is None:
            return match.group()
        removed.append(JWT_KIND)
        return marker(claims)

    if "eyJ" in text:
        text = _CANDIDATE.sub(masked, text)
    for secret in secrets:
        if secret and secret in text:
            removed += [SECRET_KIND] * text.count(secret)
            text = text.replace(secret, SECRET_MARKER)
    return text, removed


def string_slots(container: dict[str, Any] | list[Any], key: Any) -> Iterator[Slot]:
    """Every string at or under ``container[key]`` (JSON data), as a slot one can read or replace."""
    stack: list[Slot] = [(container, key)]
    while stack:
        parent, name = stack.pop()
        child = parent[name]
        if isinstance(child, str):
            yield parent, name
        elif isinstance(child, dict):
            stack.extend((child, k) for k in child)
        elif isinstance(child, list):
            stack.extend((child, i) for i in range(len(child)))


@dataclass(frozen=True)
class Place:
    """A part of a notebook: ``cell`` counted from 1 (None: the notebook's own metadata), and
    which part (``source``, ``output``, ``attachment``, ``cell metadata``, ``widget state``,
    ``metadata``)."""

    cell: int | None
    part: str


#: The parts of a notebook that the save guard cleans (sources are the user's code: scan reports them).
GUARDED_PARTS = ("output", "widget state")


def notebook_parts(notebook: dict[str, Any]) -> Iterator[tuple[Place, dict[str, Any], str]]:
    """Each part of an nbformat 4 notebook (its JSON) that can hold a token: where it is, and the
    object and key that hold it."""
    cells = notebook.get("cells")
    for number, cell in enumerate(cells if isinstance(cells, list) else [], 1):
        if not isinstance(cell, dict):
            continue
        for key, part in (("source", "source"), ("outputs", "output"), ("attachments", "attachment")):
            if key in cell:
                yield Place(number, part), cell, key
        if "metadata" in cell:
            yield Place(number, "cell metadata"), cell, "metadata"
    metadata = notebook.get("metadata")
    if isinstance(metadata, dict):
        for key in metadata:
            yield Place(None, "widget state" if key == "widgets" else "metadata"), metadata, key
