"""`--remember` and `--logout` over real HTTP against the stand-ins: a later login refreshes the
kept JWT with one request (no secret, no browser), and each way that can fail says so and logs
in as usual, or refuses before anything starts."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from iyo_magic import ConfigError, LoginRequest, login
from iyo_magic.durations import utc_time
from iyo_magic.remember import store as remembered
from iyo_magic.remember.store import LoginKey, Place, RememberedJwts
from iyo_magic.server.demo_user import DemoUser
from iyo_magic.tokens import JWT

from .conftest import ALICE, ALICE_APP, ALICE_SECRET, ORG, ORG_SECRET, request_for
from .test_code_flow import listener_step

SCOPE = f"user:memberof:{ORG}"


def alice_request(standins, **extra) -> LoginRequest:
    return LoginRequest(
        client_id=ALICE_APP,
        base_url=standins.iyo_url,
        scopes=(SCOPE,),
        cockpit_url=standins.cockpit_url,
        public_key=standins.key.public_pem,
        **extra,
    )


def no_secret() -> str:
    raise AssertionError("a remembered login asked for the secret")


def state_dir():
    from pathlib import Path

    return Path(os.environ["IYO_STATE_DIR"])


def kept_file(request):
    return state_dir() / f"{LoginKey.of(request).name}.jwt"


def test_a_later_login_refreshes_the_kept_jwt_with_one_request_and_no_secret(standins):
    request = alice_request(standins)
    first = login(request, ALICE_SECRET, remember=True)
    path = kept_file(request)
    assert str(first.remembered_in) == f"the file {path}" and not first.resumed
    assert (first.remembered_in.kind, first.remembered_in.plain) == ("file", True)
    assert path.read_text() == first.jwt.reveal()  # the JWT and nothing else
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(state_dir().stat().st_mode) == 0o700

    standins.iyo.hits.clear()
    again = login(request, no_secret, remember=True)
    assert dict(standins.iyo.hits) == {"refresh": 1}
    assert again.resumed and again.access_token is None
    assert again.jwt.verified and again.jwt.username == "alice" and again.jwt.scope == (SCOPE,)
    assert path.read_text() == again.jwt.reveal() != first.jwt.reveal()
    assert again.cockpit.get("/ays/repository").status_code == 200
    # Another login (another audience) is kept apart: one JWT per login.
    other = login(alice_request(standins, audiences=("elsewhere",)), ALICE_SECRET, remember=True)
    assert kept_file(other.request) != path and path.read_text() == again.jwt.reveal()


def test_a_remembered_code_flow_login_needs_no_browser(code_standins):
    request, port = request_for(code_standins)
    browser = DemoUser("alice", ALICE["password"])
    login(request, ORG_SECRET, remember=True, code_grant=listener_step(browser, port))
    browser.thread.join(5)

    def no_browser(*_):
        raise AssertionError("a remembered login opened the browser")

    code_standins.iyo.hits.clear()
    again = login(request, no_secret, remember=True, code_grant=no_browser)
    assert dict(code_standins.iyo.hits) == {"refresh": 1} and again.jwt.username == "alice"


def test_renewals_are_written_back(standins):
    from .conftest import make_stale

    request = alice_request(standins)
    result = login(request, ALICE_SECRET, remember=True)
    make_stale(result.auth)
    renewed = result.auth.current()
    assert renewed is not result.jwt and kept_file(request).read_text() == renewed.reveal()


def test_a_removed_authorization_says_so_and_logs_in_as_usual(standins):
    request = alice_request(standins)
    login(request, ALICE_SECRET, remember=True)
    assert standins.iyo.remove_authorization("alice", ALICE_APP) >= 1
    notes: list[str] = []
    standins.iyo.hits.clear()
    result = login(request, ALICE_SECRET, remember=True, notice=notes.append)
    assert notes == [
        "the remembered JWT could not be refreshed (the authorization was removed on ItsYou.online, "
        "or it went unused for 30 days); logging in as usual"
    ]
    assert not result.resumed and result.access_token is not None and standins.iyo.hits["refresh"] == 1
    assert kept_file(request).read_text() == result.jwt.reveal()  # the new login is kept


def test_a_refresh_token_unused_for_30_days_has_lapsed(standins):
    request = alice_request(standins)
    login(request, ALICE_SECRET, remember=True)
    notes: list[str] = []
    try:
        standins.iyo.clock = lambda: time.time() + 31 * 86400
        result = login(request, ALICE_SECRET, remember=True, notice=notes.append)
    finally:
        standins.iyo.clock = time.time
    assert "went unused for 30 days" in notes[0] and not result.resumed and result.access_token is not None
    assert result.jwt.verified and not result.jwt.expired  # by the stand-in's clock, 31 days on


@pytest.mark.parametrize("what", ["directory", "file"])
def test_a_kept_jwt_others_could_read_is_refused_before_anything_starts(standins, what):
    request = alice_request(standins)
    login(request, ALICE_SECRET, remember=True)
    loose, advice = (state_dir(), "chmod 700") if what == "directory" else (kept_file(request), "chmod 600")
    loose.chmod(0o755 if what == "directory" else 0o644)
    standins.iyo.hits.clear()
    with pytest.raises(ConfigError) as refused:
        login(request, no_secret, remember=True)
    assert str(refused.value) == (
        f"--remember refuses the {what} {loose}: others can use it (mode {'755' if what == 'directory' else '644'}); "
        f"run {advice} {loose}"
    )
    assert not standins.iyo.hits  # no request, no login


def test_a_corrupt_kept_file_says_so_loses_nothing_and_the_flow_runs(standins):
    request, other = alice_request(standins), alice_request(standins, audiences=("elsewhere",))
    kept_other = login(other, ALICE_SECRET, remember=True).jwt.reveal()
    path = kept_file(request)
    path.write_text("{ not a JWT")
    path.chmod(0o600)
    notes: list[str] = []
    result = login(request, ALICE_SECRET, remember=True, notice=notes.append)
    assert notes == [
        f"the remembered JWT in the file {path} is unreadable (not a JWT); logging in as usual (the login replaces it)"
    ]
    assert result.access_token is not None and path.read_text() == result.jwt.reveal()
    assert kept_file(other).read_text() == kept_other  # the other login's JWT is untouched


def test_two_kernels_resuming_at_once_refresh_once_and_both_get_a_jwt(standins, tmp_path):
    request = alice_request(standins)
    login(request, ALICE_SECRET, remember=True)
    key_file = tmp_path / "key.pem"
    key_file.write_text(standins.key.public_pem)
    kernel = textwrap.dedent(
        f"""
        import sys
        from iyo_magic import LoginRequest, login
        request = LoginRequest(client_id={ALICE_APP!r}, base_url={standins.iyo_url!r}, scopes=({SCOPE!r},),
                               public_key=open({str(key_file)!r}).read())
        print("ready", flush=True)
        result = login(request, lambda: sys.exit("asked for the secret"), remember=True)
        print(result.jwt.username, result.jwt.verified, result.resumed)
        """
    )
    standins.iyo.hits.clear()
    store = RememberedJwts()
    with store.lock(LoginKey.of(request)):  # both start while this one holds the lock
        kernels = [
            subprocess.Popen([sys.executable, "-c", kernel], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        for process in kernels:
            assert process.stdout.readline() == "ready\n"
        time.sleep(0.5)  # each has read the kept JWT and is waiting for the lock
    outputs = [process.communicate(timeout=30) for process in kernels]
    assert [out for out, _ in outputs] == ["alice True True\n"] * 2, outputs
    assert dict(standins.iyo.hits) == {"refresh": 1}


def test_the_keyring_when_it_is_a_real_one(standins, tmp_path):
    import keyring

    from .keyring_backend import JsonFileKeyring

    backend = JsonFileKeyring(tmp_path / "keyring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        request = alice_request(standins)
        first = login(request, ALICE_SECRET, remember=True)
        assert str(first.remembered_in) == "the system keyring (JsonFileKeyring, service 'iyo_magic')"
        assert (first.remembered_in.kind, first.remembered_in.plain) == ("keyring", False)
        assert backend.entries() == {f"iyo_magic/{LoginKey.of(request).name}": first.jwt.reveal()}
        assert not list(state_dir().glob("*.jwt"))  # no file besides the keyring
        standins.iyo.hits.clear()
        again = login(request, no_secret, remember=True)
        assert again.resumed and dict(standins.iyo.hits) == {"refresh": 1}
        assert backend.entries() == {f"iyo_magic/{LoginKey.of(request).name}": again.jwt.reveal()}
    finally:
        keyring.set_keyring(previous)


class DictBackend:
    """A place of the test's own, as a new backend is: one class, listed in `remembered.BACKENDS`."""

    def __init__(self, plain: bool) -> None:
        self.entries: dict[str, str] = {}
        self.plain = plain

    def place(self, key):
        return Place("dict", "the test's dict", self.plain)

    def read(self, key):
        return self.entries.get(key.name)

    def write(self, key, text):
        self.entries[key.name] = text

    def forget(self, key):
        return self.entries.pop(key.name, None) is not None


@pytest.mark.parametrize("plain", [True, False])
def test_a_new_backend_is_one_entry_in_backends_and_the_warning_reads_its_data(ip, alice_env, monkeypatch, plain):
    backend = DictBackend(plain)
    monkeypatch.setattr(remembered, "BACKENDS", (lambda directory: backend,))
    line = f"--remember --scope {SCOPE}"
    assert "· remembered →" in run(ip, line)
    key = LoginKey.of(alice_request(alice_env))
    assert backend.entries == {key.name: ip.user_ns["iyo_jwt"].reveal()} and not list(state_dir().glob("*.jwt"))
    status = run(ip, "--status")
    # The words do not say "file": the warning comes from the place's data, or not at all.
    assert "remembered in the test's dict" in status.splitlines() and ("warning: a plain file" in status) == plain

    restart(ip)
    note = run(ip, f"--status --scope {SCOPE}")
    assert f"kept in the test's dict{' (a plain file)' if plain else ''}: the same call" in note
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    alice_env.iyo.hits.clear()
    assert "remembered JWT refreshed: no login" in run(ip, line) and dict(alice_env.iyo.hits) == {"refresh": 1}
    assert backend.entries == {key.name: ip.user_ns["iyo_jwt"].reveal()}  # the refreshed JWT, written back
    assert "deleted the remembered JWT from the test's dict\n" in run(ip, "--logout") and backend.entries == {}


def test_remember_needs_a_refreshable_jwt(standins):
    with pytest.raises(ConfigError, match="--remember keeps a refreshable JWT"):
        login(alice_request(standins, refreshable=False), ALICE_SECRET, remember=True)


# -- the magic ---------------------------------------------------------------------------------
def run(ip, line: str) -> str:
    with capture_output() as captured:
        ip.run_line_magic("iyo_token", line)
    return captured.stdout + "".join(output.data.get("text/plain", "") for output in captured.outputs)


def restart(ip) -> None:
    """What a kernel restart leaves: no variables, no results in memory."""
    from iyo_magic.notebook.login_path import for_shell

    ip.reset(new_session=False)
    for_shell(ip).variables.results.clear()


def test_magic_remember_status_restart_and_logout(ip, alice_env, monkeypatch):
    line = f"--remember --scope {SCOPE}"
    assert "· remembered →" in run(ip, line)
    status = run(ip, "--status")
    request = alice_request(alice_env)
    assert f"remembered in the file {kept_file(request)}\n  warning: a plain file" in status

    restart(ip)
    assert run(ip, f"--status --scope {SCOPE}") == (
        "nothing stored under iyo_*; log in first\n"
        f"a remembered JWT for alice is kept in the file {kept_file(request)} (a plain file): the same call with "
        "--remember refreshes it\n"
        "remembered logins (1; --logout --all forgets them all):\n"
        f"  alice until {utc_time(JWT(kept_file(request).read_text()).expires_at)} · {LoginKey.of(request)} · in the "
        f"file {kept_file(request)} (a plain file)\n"
    )
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    alice_env.iyo.hits.clear()
    assert "remembered JWT refreshed: no login → iyo_jwt, iyo_auth, iyo_cockpit" in run(ip, line)
    assert dict(alice_env.iyo.hits) == {"refresh": 1}

    out = run(ip, "--logout")
    assert out.startswith(
        f"forgot iyo_jwt, iyo_auth, iyo_cockpit\ndeleted the remembered JWT from the file {kept_file(request)}\n"
    )
    assert "still valid: the JWT, and any copy of it, until " in out
    assert f"its refresh token for up to 30 days after its last use, unless the authorization of {ALICE_APP}" in out
    assert not kept_file(request).exists() and "iyo_jwt" not in ip.user_ns
    with pytest.raises(UsageError, match="no client secret"):  # the flow runs again: it needs the secret
        run(ip, line)


def test_status_without_remember_makes_no_directory(ip, alice_env):
    assert run(ip, "--status").endswith(
        f"no remembered JWT for {ALICE_APP} at {alice_env.iyo_url}, client_credentials\n"
    )
    assert not state_dir().exists()


def test_magic_logout_in_a_new_kernel_names_the_login_by_its_settings(ip, alice_env):
    run(ip, f"--remember --scope {SCOPE}")
    restart(ip)
    out = run(ip, f"--logout --scope {SCOPE}")
    assert "nothing was stored under iyo_*\ndeleted the remembered JWT" in out and "still valid" in out
    assert "no remembered JWT for this login" in run(ip, f"--logout --scope {SCOPE}")


def test_magic_remember_refusals_are_one_line(ip, alice_env):
    with pytest.raises(UsageError, match="^--remember keeps a refreshable JWT: it does not go with"):
        run(ip, "--remember --no-refresh")
    with pytest.raises(UsageError, match="^--form and --logout ask for different things"):
        run(ip, "--form --logout")


def test_remote_kernels_are_warned_once(ip, alice_env, monkeypatch):
    from iyo_magic.remember import resume as remembered_login

    monkeypatch.setattr(remembered_login, "_warned_remote", False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "x")
    first = run(ip, f"--remember --scope {SCOPE} --fresh")
    assert first.startswith("--remember on a remote kernel (JupyterHub, Binder): the JWT is kept in the file ")
    assert "administrators may be able to read it" in first
    assert "remote kernel" not in run(ip, f"--remember --scope {SCOPE} --fresh")


def test_the_form_remembers(ip, alice_env, monkeypatch):
    from iyo_magic import LoginForm

    form = LoginForm(scope=SCOPE, remember=True)
    assert form.remember.value
    form.button.click()
    form.wait()
    assert "· remembered →" in form.message.value
    restart(ip)
    monkeypatch.delenv("IYO_CLIENT_SECRET")
    alice_env.iyo.hits.clear()
    form = LoginForm(scope=SCOPE, remember=True)
    form.button.click()
    form.wait()
    assert "remembered JWT refreshed: no login" in form.message.value, form.message.value
    assert dict(alice_env.iyo.hits) == {"refresh": 1} and ip.user_ns["iyo_jwt"].username == "alice"
