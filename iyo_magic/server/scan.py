"""``iyo-magic scan PATH…``: find ItsYou.online JWTs, and the value of ``$IYO_CLIENT_SECRET``
when it is set, in notebooks (sources, outputs, attachments, metadata, widget state) and in
plain files. Directories are searched through, except ``.git``, ``.ipynb_checkpoints``, caches
and virtual environments.

Each finding is one line, ``file:cell:kind`` for a notebook (cells counted from 1, ``metadata``
for the notebook's own) and ``file:line:kind`` for a plain file, never the value. The exit
status is 1 when anything is found, 0 when nothing is, 2 when a path cannot be read: fit for a
pre-commit hook (``.pre-commit-hooks.yaml``, id ``iyo-magic-scan``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from ..leaks import SHORTEST_SECRET, find, notebook_parts, text_groups, usable_secrets

#: Folders never searched: version control, notebook checkpoints, caches, installed packages.
SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".ipynb_checkpoints",
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


def files_under(path: Path) -> Iterator[Path]:
    """``path`` itself if a file, else the files under it, in order, skipped folders left out."""
    if not path.is_dir():
        yield path
        return
    for root, folders, names in os.walk(path):
        here = Path(root)
        folders[:] = sorted(f for f in folders if f not in SKIPPED_FOLDERS and not _is_environment(here / f))
        yield from (here / name for name in sorted(names))


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
    """What ``path`` holds: a notebook's parts if it is one, else its lines; nothing in a binary file."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return []
    text = data.decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            notebook = json.loads(text)
        except (ValueError, RecursionError):
            notebook = None  # not JSON: read as text below
        if isinstance(notebook, dict):
            return notebook_findings(notebook, secrets)
    return text_findings(text, secrets)


def scan(paths: Iterable[Path], secret: str | None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print each finding in ``paths``; the exit status (1: found, 0: nothing, 2: unreadable path)."""
    secrets = usable_secrets([secret])
    if secret and not secrets:
        print(
            f"iyo-magic scan: IYO_CLIENT_SECRET is shorter than {SHORTEST_SECRET} characters: not searched for",
            file=err,
        )
    findings = files = unreadable = 0
    for path in paths:
        if not path.exists():
            print(f"iyo-magic scan: {path}: no such file or folder", file=err)
            unreadable += 1
            continue
        for file in files_under(path):
            try:
                found = file_findings(file, secrets)
            except OSError as error:
                print(f"iyo-magic scan: {file}: {error.strerror or type(error).__name__}", file=err)
                unreadable += 1
                continue
            files += 1
            findings += len(found)
            for where, kind in found:
                print(f"{file}:{where}:{kind}", file=out)
    if findings:
        print(f"iyo-magic scan: {findings} finding(s); values not shown", file=err)
        return 1
    if unreadable:
        return 2
    print(f"iyo-magic scan: nothing found in {files} file(s)", file=out)
    return 0
