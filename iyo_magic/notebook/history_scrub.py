"""Take a secret typed on a magic line back out of IPython's history.

The cell was stored before the magic ran: in the in-memory history (``In``, ``_ih``,
``_i``, ``_ii``, ``_iii``, ``_iN``), in the cache waiting for the history database, perhaps
already in ``history.sqlite``, in a ``%logstart`` file, and (in a notebook) in the cell itself.
Every copy is rewritten with the secret replaced, as typed and as IPython's translation of the
line into Python quotes it.
"""

from __future__ import annotations

import re
import sqlite3

REMOVED = "<removed>"
_INPUT_VARIABLE = re.compile(r"_i{1,3}|_i\d+")


def scrub(text, secrets: list[str]):
    """``text`` with each secret replaced where it stands as a whole word (or quoted, or after =)."""
    if not isinstance(text, str):
        return text
    for secret in secrets:
        text = re.sub(rf"(?<![^\s'\"=]){re.escape(secret)}(?![^\s'\"])", REMOVED, text)
    return text


def quoted_forms(typed: str) -> list[str]:
    """``typed`` and the forms it takes inside the Python string literal that IPython makes of a
    magic line (``get_ipython().run_line_magic('name', '...')``)."""
    escaped = typed.replace("\\", "\\\\")
    return list(dict.fromkeys([typed, escaped, escaped.replace("'", "\\'"), escaped.replace('"', '\\"')]))


def scrub_current_input(shell, typed: list[str]) -> None:
    """Replace the ``typed`` words by ``<removed>`` in every stored copy of the current cell."""
    secrets = [form for word in typed if word for form in quoted_forms(word)]
    if not secrets or shell is None:
        return
    _scrub_log_file(getattr(shell, "logger", None), secrets)
    history = shell.history_manager
    for entries in (history.input_hist_parsed, history.input_hist_raw):
        if entries:
            entries[-1] = scrub(entries[-1], secrets)
    for name in ("_i00", "_i", "_ii", "_iii"):
        if isinstance(getattr(history, name, None), str):
            setattr(history, name, scrub(getattr(history, name), secrets))
    # ``_i``, ``_ii``, ``_iii`` and ``_iN``: which N is the current cell's differs between IPython
    # versions, so every such variable is checked.
    namespace = shell.user_ns
    for name, value in list(namespace.items()):
        if isinstance(value, str) and _INPUT_VARIABLE.fullmatch(name):
            namespace[name] = scrub(value, secrets)
    _replace_cell_text(shell)
    if not history.enabled:
        return
    with history.db_input_cache_lock:
        history.db_input_cache = [(n, scrub(s, secrets), scrub(r, secrets)) for n, s, r in history.db_input_cache]
        try:
            with history.db:
                rows = history.db.execute(
                    "SELECT line, source, source_raw FROM history WHERE session = ?", (history.session_number,)
                ).fetchall()
                for line, source, raw in rows:
                    if scrub(source, secrets) != source or scrub(raw, secrets) != raw:
                        history.db.execute(
                            "UPDATE history SET source = ?, source_raw = ? WHERE session = ? AND line = ?",
                            (scrub(source, secrets), scrub(raw, secrets), history.session_number, line),
                        )
        except sqlite3.Error:
            pass  # no database (e.g. in memory only): the in-memory copies are scrubbed


def _scrub_log_file(logger, secrets: list[str]) -> None:
    """``%logstart`` wrote the cell to its file before the magic ran: rewrite the file."""
    if logger is None or not getattr(logger, "log_active", False) or getattr(logger, "logfile", None) is None:
        return
    try:
        logger.logfile.flush()
        with open(logger.logfname, "r+", encoding="utf-8") as log_file:
            text = log_file.read()
            cleaned = scrub(text, secrets)
            if cleaned != text:
                log_file.seek(0)
                log_file.write(cleaned)
                log_file.truncate()
        logger.logfile.seek(0, 2)  # the logger goes on writing at the (new) end
    except (OSError, ValueError):
        pass  # the log file is gone or closed: nothing of it to clean


def _replace_cell_text(shell) -> None:
    """In a notebook, take the words out of the cell the user typed, too."""
    if getattr(shell, "kernel", None) is None:
        return
    cells = shell.history_manager.input_hist_raw
    if cells:
        shell.set_next_input(cells[-1], replace=True)
