"""``iyo-magic scan PATH…``: find ItsYou.online JWTs, and the value of ``$IYO_CLIENT_SECRET``
when it is set, in notebooks (nbformat 4 and 3: sources, outputs, attachments, metadata, widget
state) and in plain files, binary or text (UTF-8, or UTF-16/32 with a byte order mark). Folders
are searched through, except ``.git``, caches and virtual environments; notebook checkpoints
(``.ipynb_checkpoints``) are searched and their findings say so.

Only regular files are read: symbolic links are not followed, FIFOs, devices and sockets are
skipped, and so is a file larger than 50 MB, each with a line on stderr (the exit status does not
change). Each finding is one line, ``file:cell:kind`` for a notebook (cells counted from 1,
``metadata`` for the notebook's own) and ``file:line:kind`` for a plain file, never the value. The
exit status is 1 when anything is found, 0 when nothing is, 2 when a path cannot be read: fit for
a pre-commit hook (``.pre-commit-hooks.yaml``, id ``iyo-magic-scan``).
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from ..leaks import SHORTEST_SECRET, find, notebook_parts, text_groups, usable_secrets

#: Folders never searched: version control, caches, installed packages.
SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".tox",
        ".nox",
        "node_modules",
    }
)


def _is_environment(folder: Path) -> bool:
    """A virtual environment or a conda environment: installed packages, not the user's files."""
    return (folder / "pyvenv.cfg").is_file() or (folder / "conda-meta").is_dir()


#: A file larger than this is skipped (said on stderr).
LARGEST_FILE = 50 * 1024 * 1024
CHECKPOINTS = ".ipynb_checkpoints"
_BYTE_ORDER_MARKS = (
    (b"\xff\xfe\0\0", "utf-32-le"),
    (b"\0\0\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xef\xbb\xbf", "utf-8"),
)


class Skipped(Exception):
    """A path that is not read, and why (said on stderr; not an error)."""


def files_under(path: Path) -> Iterator[Path]:
    """``path`` itself unless a folder, else what is under it, in order, skipped folders left out;
    symbolic links are not followed (they are yielded, and reading them says so)."""
    if stat.S_ISLNK(os.lstat(path).st_mode) or not path.is_dir():
        yield path
        return
    for root, folders, names in os.walk(path):
        here = Path(root)
        folders[:] = sorted(f for f in folders if f not in SKIPPED_FOLDERS and not _is_environment(here / f))
        links = [f for f in folders if (here / f).is_symlink()]
        folders[:] = [f for f in folders if f not in links]
        yield from (here / name for name in sorted(names + links))


def read_regular(path: Path) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``LARGEST_FILE`` bytes; else
    :class:`Skipped`. Opened without following a link or waiting on a FIFO."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise Skipped("a symbolic link: not followed")
    if not stat.S_ISREG(mode):
        raise Skipped("not a regular file (a FIFO, device or socket): skipped")
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise Skipped("not a regular file: skipped")
        if status.st_size > LARGEST_FILE:
            raise Skipped(f"larger than {LARGEST_FILE // 2**20} MB: skipped")
        data = file.read(LARGEST_FILE + 1)
    if len(data) > LARGEST_FILE:
        raise Skipped(f"larger than {LARGEST_FILE // 2**20} MB: skipped")
    return data


def decoded_texts(data: bytes, secrets: list[str]) -> list[str]:
    """The text of ``data``: UTF-16 or UTF-32 when a byte order mark says so, else UTF-8 (bad bytes
    replaced, NULs kept); for bytes with NULs that hold UTF-16 text without a mark, that text too."""
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return [data[len(mark) :].decode(encoding, errors="replace")]
    texts = [data.decode("utf-8", errors="replace")]
    if b"\0" in data:
        for encoding in ("utf-16-le", "utf-16-be"):
            if any(probe.encode(encoding) in data for probe in ["eyJ", *(secret[:8] for secret in secrets)]):
                texts += [data[start:].decode(encoding, errors="replace") for start in (0, 1)]
    return texts


def notebook_findings(notebook: dict, secrets: list[str]) -> list[tuple[str, str]]:
    """(cell, kind) of each part of ``notebook`` that holds a token, once per part."""
    found = []
    for place, holder, key in notebook_parts(notebook):
        texts = ("".join(slot[name] for slot, name in group) for group in text_groups(holder, key))
        kinds = {kind for text in texts for _, kind in find(text, secrets)}
        cell = "metadata" if place.cell is None else str(place.cell)
        found += [(cell, f"{kind} in {place.part}") for kind in sorted(kinds)]
    return found


def text_findings(text: str, secrets: list[str]) -> list[tuple[str, str]]:
    """(line, kind) of each token in ``text``, once per line and kind."""
    found = []
    for offset, kind in find(text, secrets):
        entry = (str(text.count("\n", 0, offset) + 1), kind)
        if entry not in found:
            found.append(entry)
    return found


def file_findings(path: Path, secrets: list[str]) -> list[tuple[str, str]]:
    """What ``path`` holds: a notebook's parts if it is one, else its lines (of each way to read it)."""
    texts = decoded_texts(read_regular(path), secrets)
    if path.suffix == ".ipynb" and len(texts) == 1:
        try:
            notebook = json.loads(texts[0])
        except (ValueError, RecursionError):
            notebook = None  # not JSON: read as text below
        if isinstance(notebook, dict):
            return notebook_findings(notebook, secrets)
    found: list[tuple[str, str]] = []
    for text in texts:
        found += [entry for entry in text_findings(text, secrets) if entry not in found]
    return found


def scan(paths: Iterable[Path], secret: str | None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print each finding in ``paths``; the exit status (1: found, 0: nothing, 2: unreadable path)."""
    secrets = usable_secrets([secret])
    if secret and not secrets:
        print(
            f"iyo-magic scan: IYO_CLIENT_SECRET is shorter than {SHORTEST_SECRET} characters: not searched for",
            file=err,
        )
    findings = files = unreadable = skipped = 0
    for path in paths:
        if not os.path.lexists(path):
            print(f"iyo-magic scan: {path}: no such file or folder", file=err)
            unreadable += 1
            continue
        for file in files_under(path):
            try:
                found = file_findings(file, secrets)
            except Skipped as reason:
                print(f"iyo-magic scan: {file}: {reason}", file=err)
                skipped += 1
                continue
            except OSError as error:
                print(f"iyo-magic scan: {file}: {error.strerror or type(error).__name__}", file=err)
                unreadable += 1
                continue
            files += 1
            findings += len(found)
            checkpoint = ", in a checkpoint" if CHECKPOINTS in file.parts else ""
            for where, kind in found:
                print(f"{file}:{where}:{kind}{checkpoint}", file=out)
    if findings:
        print(f"iyo-magic scan: {findings} finding(s); values not shown", file=err)
        return 1
    if unreadable:
        return 2
    also = f"; {skipped} skipped" if skipped else ""
    print(f"iyo-magic scan: nothing found in {files} file(s){also}", file=out)
    return 0
