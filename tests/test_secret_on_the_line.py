"""A secret typed on the magic line anyway: refused without repeating it, and taken out of
IPython's history, in memory and in the history database."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from .conftest import ORG, ORG_SECRET


def db_rows(ip):
    history = ip.history_manager
    history.writeout_cache()
    return history.db.execute(
        "SELECT source, source_raw FROM history WHERE session = ?", (history.session_number,)
    ).fetchall()


@pytest.mark.parametrize(
    "line",
    [
        f"--client-secret {ORG_SECRET}",
        f"--secret {ORG_SECRET}",
        f"--client-secret={ORG_SECRET}",
        f"IYO_CLIENT_SECRET={ORG_SECRET}",
        f"--aud {ORG} {ORG_SECRET}",
    ],
    ids=["option-and-value", "unknown-option", "option=value", "KEY=value", "stray-word"],  # never the secret
)
def test_refused_and_removed_from_history(ip, iyo_env, capsys, line):
    assert ip.history_manager.enabled
    result = ip.run_cell(f"x = 1\n%iyo_token {line}", store_history=True)
    assert isinstance(result.error_in_exec, UsageError)
    assert ORG_SECRET not in str(result.error_in_exec) and ORG_SECRET not in capsys.readouterr().out
    count = ip.execution_count - 1
    memory = [
        ip.history_manager.input_hist_raw[-1],
        ip.history_manager.input_hist_parsed[-1],
        ip.user_ns["_i"],
        ip.user_ns[f"_i{count}"],
        ip.user_ns["In"][-1],
    ]
    assert all(ORG_SECRET not in text for text in memory), memory
    assert "<removed>" in memory[0] and memory[0].startswith("x = 1\n%iyo_token")
    rows = db_rows(ip)
    assert rows and all(ORG_SECRET not in (source + raw) for source, raw in rows)


def test_secret_already_in_the_database_is_rewritten(ip, iyo_env):
    # The cell's first statement writes the cell (secret included) to history.sqlite before the
    # magic runs, as IPython's history thread may do at any moment.
    ip.run_cell(
        f"get_ipython().history_manager.writeout_cache()\n%iyo_token --client-secret {ORG_SECRET}", store_history=True
    )
    rows = db_rows(ip)
    assert any("<removed>" in raw for _, raw in rows)
    assert all(ORG_SECRET not in (source + raw) for source, raw in rows)


def test_only_words_that_may_be_secrets_are_removed(ip, iyo_env):
    ip.run_cell(f"%iyo_token --aud {ORG} --validity 60 --bogus", store_history=True)
    assert ip.history_manager.input_hist_raw[-1] == f"%iyo_token --aud {ORG} --validity 60 --bogus"
    ip.run_cell(f"%iyo_token --aud {ORG} --bogus maybe-a-secret", store_history=True)
    assert ip.history_manager.input_hist_raw[-1] == f"%iyo_token --aud {ORG} --bogus <removed>"
