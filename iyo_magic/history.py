"""Take a secret typed on a magic line back out of IPython's history.

The cell was stored before the magic ran: in the in-memory history (``In``, ``_ih``,
``_i``, ``_ii``, ``_iii``, ``_iN``), in the cache waiting for the history database, and
perhaps already in ``history.sqlite``. Every copy is rewritten with the secret replaced.
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


def scrub_current_input(shell, secrets: list[str]) -> None:
    """Replace ``secrets`` by ``<removed>`` in every stored copy of the current cell."""
    secrets = [s for s in secrets if s]
    if not secrets or shell is None:
        return
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
