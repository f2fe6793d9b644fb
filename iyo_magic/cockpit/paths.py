"""Dot segments, as the servers between a notebook and a Cockpit read them: a path segment that
is empty, ``.`` or ``..`` (also percent-encoded, any number of times: ``%2e%2E``, ``%252e``), or
that decodes to more than one segment, moves a request to another endpoint. urllib3 and proxies
resolve ``..``; Sanic, which ays9 runs on, reads ``/x/`` as ``/x``; a server may decode a path
more than once.

The client refuses such a segment as an operation's argument (`moves_the_path`) and resolves
a raw path before it checks that the path stays under the Cockpit's base path (`resolved`);
the stand-in refuses such names too.
"""

from __future__ import annotations

from urllib.parse import unquote


def decoded(text: str) -> str:
    """``text`` percent-decoded until nothing changes (each round that changes it shortens it)."""
    while True:
        once = unquote(text)
        if once == text:
            return text
        text = once


def moves_the_path(segment: str) -> bool:
    """Whether ``segment`` is empty, ``.`` or ``..``, or holds a ``/`` or ``\\`` (a server that
    decodes it reads more than one segment: ``x%2F..%2F..``), once decoded."""
    name = decoded(segment)
    return name in ("", ".", "..") or "/" in name or "\\" in name


def resolved(path: str) -> str:
    """An absolute ``path`` (or an empty one) with its dot segments, encoded ones too, resolved
    as RFC 3986 (5.2.4) resolves them; the other segments stay as they are."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for number, segment in enumerate(segments, 1):
        name = decoded(segment)
        if name not in (".", ".."):
            kept.append(segment)
            continue
        if name == ".." and kept:
            kept.pop()
        if number == len(segments):  # "/a/b/.." is "/a/"
            kept.append("")
    return "/" + "/".join(kept)


def is_under(path: str, base_path: str) -> bool:
    """Whether ``path`` stays under ``base_path`` once resolved, read as given and read fully
    decoded (with ``\\`` as ``/``, as some servers read it)."""
    base = resolved(base_path).rstrip("/") + "/"
    read_as = (path, decoded(path).replace("\\", "/"))
    return all((resolved(each).rstrip("/") + "/").startswith(base) for each in read_as)
