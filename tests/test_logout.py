"""`--logout` finds a remembered JWT wherever it is kept, deletes it without waiting for a lock,
says which other remembered logins remain, and `--logout --all` forgets them all; `--status`
lists them; a `--remember` login whose lock another process holds logs in plainly. Over real
HTTP against the stand-ins; the keyring is a real backend of the tests' own."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import keyring
import pytest
from IPython.core.error import UsageError

from iyo_magic import login
from iyo_magic.remember import resume
from iyo_magic.remember import store as remembered
from iyo_magic.remember.store import LoginKey, RememberedJwts

from .conftest import ALICE_SECRET, make_stale
from .keyring_backend import JsonFileKeyring
from .test_remember import SCOPE, alice_request, kept_file, restart, run, state_dir


@pytest.fixture()
def a_keyring_appears(tmp_path):
    """Call it to make a real keyring appear from then on (as after `pip install keyring`)."""
    previous = keyring.get_keyring()
    backends = []

    def appear():
        backends.append(JsonFileKeyring(tmp_path / "keyring.json"))
        keyring.set_keyring(backends[-1])
        return backends[-1]

    yield appear
    keyring.set_keyring(previous)


def test_a_jwt_kept_in_a_file_is_deleted_where_a_keyring_is_found_now(ip, alice_env, a_keyring_appears):
    run(ip, f"--remember --scope {SCOPE}")
    path = kept_file(alice_request(alice_env))
    assert path.exists()
    restart(ip)
    backend = a_keyring_appears()
    out = run(ip, f"--logout --scope {SCOPE}")
    assert f"deleted the remembered JWT from the file {path}\n" in out and "still valid" in out
    assert not path.exists() and backend.entries() == {}


def test_a_jwt_kept_in_the_keyring_and_a_file_is_deleted_from_both(ip, alice_env, a_keyring_appears):
    request = alice_request(alice_env)
    login(request, ALICE_SECRET, remember=True)  # a file: no keyring yet
    backend = a_keyring_appears()
    login(request, ALICE_SECRET, remember=True, fresh=True)  # the keyring now
    assert kept_file(request).exists() and backend.entries()
    out = run(ip, f"--logout --scope {SCOPE}")
    assert "deleted the remembered JWT from the system keyring (JsonFileKeyring, service 'iyo_magic') and the " in out
    assert not kept_file(request).exists() and backend.entries() == {}


def test_logout_names_the_other_remembered_logins_without_a_secret(ip, alice_env):
    run(ip, f"--remember --scope {SCOPE} --aud elsewhere")
    jwt = ip.user_ns["iyo_jwt"].reveal()
    other = LoginKey.of(alice_request(alice_env, audiences=("elsewhere",)))
    restart(ip)
    out = run(ip, f"--logout --scope {SCOPE}")  # without --aud: another login
    assert out == (
        "nothing was stored under iyo_*\n"
        f"no remembered JWT for this login; 1 other remembered login: {other} (use --logout --all)\n"
    )
    assert jwt not in out and ALICE_SECRET not in out
    run(ip, f"--remember --scope {SCOPE} --aud third")
    restart(ip)
    assert "2 other remembered logins: " in run(ip, f"--logout --scope {SCOPE}")

    out = run(ip, "--logout --all")
    assert out.startswith("nothing was stored under iyo_*\ndeleted 2 remembered logins: ")
    assert str(other) in out and "still valid: each of their JWTs" in out and jwt not in out
    assert not list(state_dir().glob("*.jwt"))
    assert run(ip, "--logout --all") == "nothing was stored under iyo_*\nno remembered logins\n"
    with pytest.raises(UsageError, match="^--all goes with --logout"):
        run(ip, "--status --all")


def test_status_lists_every_remembered_login_and_where_masked(ip, alice_env, a_keyring_appears):
    request = alice_request(alice_env)
    login(request, ALICE_SECRET, remember=True)
    a_keyring_appears()
    second = login(alice_request(alice_env, audiences=("elsewhere",)), ALICE_SECRET, remember=True)
    out = run(ip, "--status")
    assert "remembered logins (2; --logout --all forgets them all):\n" in out
    assert f"· {LoginKey.of(request)} · in the file {kept_file(request)} (a plain file)\n" in out
    assert f"· {LoginKey.of(second.request)} · in the system keyring (JsonFileKeyring, service 'iyo_magic')\n" in out
    assert "  alice until " in out and second.jwt.reveal() not in out


HOLD = textwrap.dedent(
    """
    import fcntl, os, sys, time
    descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    print("held", flush=True)
    time.sleep(60)
    """
)


@pytest.fixture()
def held_lock():
    """Call it with a login's key: another process holds its lock until the test ends."""
    holders = []

    def hold(key: LoginKey):
        path = state_dir() / f"{key.name}.lock"
        holders.append(subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True))
        assert holders[-1].stdout.readline() == "held\n"

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait(5)


@pytest.mark.skipif(sys.platform == "win32", reason="the holder uses flock")
def test_logout_does_not_wait_for_a_held_lock(ip, alice_env, held_lock):
    run(ip, f"--remember --scope {SCOPE}")
    request = alice_request(alice_env)
    held_lock(LoginKey.of(request))
    started = time.monotonic()
    out = run(ip, "--logout")
    assert time.monotonic() - started < 3
    assert f"deleted the remembered JWT from the file {kept_file(request)}; a refresh was in progress" in out
    assert not kept_file(request).exists()


def test_a_remember_login_whose_lock_stays_held_logs_in_plainly(standins, monkeypatch):
    monkeypatch.setattr(remembered, "LOCK_PATIENCE", 1.0)
    request = alice_request(standins)
    first = login(request, ALICE_SECRET, remember=True)
    notes: list[str] = []
    with RememberedJwts().lock(LoginKey.of(request)):  # held by another open file: as another process
        started = time.monotonic()
        result = login(request, ALICE_SECRET, remember=True, notice=notes.append)
        took = time.monotonic() - started
    assert took < 5 and notes == [
        "another process has held this login's --remember lock for 1 s (a refresh in progress?); logging in as "
        "usual, without remembering this time"
    ]
    assert not result.resumed and result.access_token is not None and result.remembered_in is None
    assert kept_file(request).read_text() == first.jwt.reveal()  # the kept JWT is untouched


def test_a_renewal_after_logout_does_not_remember_the_jwt_again(standins):
    request = alice_request(standins)
    result = login(request, ALICE_SECRET, remember=True)
    resume.forget(request)  # --logout, from another kernel
    assert not kept_file(request).exists()
    make_stale(result.auth)
    assert result.auth.current() is not result.jwt  # renewed, in this kernel only
    assert not kept_file(request).exists()
