"""What a fresh-eyes review of issue 22's hardening got through, each now refused: a backslash
that makes urllib and urllib3 disagree on the host, a 401 retry that followed a redirect with the
JWT, a damaged index of remembered logins, and the stop button during a Cockpit call under
``%xmode Verbose``. Over real HTTP, against the stand-ins and small loopback apps of the tests'
own."""

from __future__ import annotations

import _thread
import threading
import time
import traceback

import pytest
from IPython.core.error import UsageError

from iyo_magic import IyoError, login
from iyo_magic.cockpit.session import CockpitSession

from .conftest import ALICE_SECRET, ORG_SECRET
from .test_logout import a_keyring_appears  # noqa: F401 (a fixture)
from .test_remember import SCOPE, alice_request, restart, run, state_dir


class Recorder:
    """A WSGI app that records each request's path and Authorization header, and answers as told."""

    def __init__(self, answers: dict[str, tuple[str, list[tuple[str, str]]]] | None = None, slow: float = 0):
        self.seen: list[tuple[str, str]] = []
        self.answers, self.slow = answers or {}, slow

    def __call__(self, environ, start_response):
        self.seen.append((environ["PATH_INFO"], environ.get("HTTP_AUTHORIZATION", "")))
        time.sleep(self.slow)
        status, headers = self.answers.get(environ["PATH_INFO"], ("200 OK", [("Content-Type", "application/json")]))
        start_response(status, headers)
        return [b"[]"]


def test_a_backslash_in_a_profiles_base_url_is_refused_before_any_secret_leaves(ip, iyo_env, monkeypatch, tmp_path):
    """urllib reads the host of https://evil.invalid\\.itsyou.online as an itsyou.online
    subdomain (no notice), urllib3 connects to evil.invalid: such a URL is refused outright."""
    folder = tmp_path / "shared-config"
    folder.mkdir()
    (folder / "profiles.toml").write_text('[team]\nbase_url = "https://evil.invalid\\\\.itsyou.online"\n')
    monkeypatch.setenv("IYO_CONFIG_DIR", str(folder))
    with pytest.raises(UsageError, match="backslash") as refused:
        run(ip, "-p team")
    assert ORG_SECRET not in str(refused.value)


def test_a_backslash_in_a_raw_cockpit_url_sends_no_jwt_elsewhere(iyo_env, serve_app):
    evil = Recorder()
    evil_url = serve_app(evil)
    result = login(alice_request(iyo_env), ALICE_SECRET)
    session = CockpitSession(iyo_env.cockpit_url, result.auth)
    cockpit_host = iyo_env.cockpit_url.split("://", 1)[1]
    with pytest.raises(IyoError, match="backslash"):
        session.get(f"{evil_url}\\@{cockpit_host}/ays/repository")
    assert evil.seen == []


def test_a_401_after_a_redirect_is_not_retried_with_the_jwt(iyo_env, serve_app):
    """The Cockpit at /api redirects to /outside on the same host, which answers 401: requests drops
    the JWT on the redirect, and the 401 retry must not put it back."""
    answers = {"/api/jump": ("302 Found", [("Location", "/outside")]), "/outside": ("401 Unauthorized", [])}
    app = Recorder(answers)
    base = serve_app(app) + "/api"
    result = login(alice_request(iyo_env), ALICE_SECRET)
    session = CockpitSession(base, result.auth)
    renewals = result.auth.renewals
    with pytest.raises(IyoError):
        session.get("/jump")
    outside = [auth for path, auth in app.seen if path == "/outside"]
    assert outside and all(not auth for auth in outside), app.seen
    assert result.auth.renewals == renewals  # and no renewal spent on it


def test_logout_all_with_a_damaged_index_still_deletes_this_login_and_says_what_may_remain(
    ip,
    alice_env,
    a_keyring_appears,  # noqa: F811
):
    backend = a_keyring_appears()
    run(ip, f"--remember --scope {SCOPE}")
    assert backend.entries()
    (state_dir() / "logins.json").write_text("{not json")
    restart(ip)
    out = run(ip, f"--logout --all --scope {SCOPE}")
    assert backend.entries() == {}, out
    assert "index of remembered logins was unreadable" in out
    restart(ip)
    out = run(ip, f"--remember --scope {SCOPE}")  # nothing left to refresh: it logs in
    assert "remembered JWT refreshed" not in out


def test_the_stop_button_during_a_cockpit_call_shows_no_jwt_in_a_verbose_traceback(iyo_env, serve_app):
    slow = Recorder(slow=3)
    base = serve_app(slow) + "/api"
    result = login(alice_request(iyo_env), ALICE_SECRET)
    session = CockpitSession(base, result.auth)
    threading.Timer(0.5, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt) as stopped:
        session.get("/ays/repository")
    shown = "".join(traceback.format_exception(stopped.type, stopped.value, stopped.tb))
    frames = [frame for frame, _ in traceback.walk_tb(stopped.tb)]
    local_values = " ".join(repr(value) for frame in frames for value in frame.f_locals.values())
    jwt = result.auth.jwt.reveal()
    assert jwt not in shown and jwt not in local_values  # what %xmode Verbose prints: each frame's locals
    assert stopped.value.__context__ is None or stopped.value.__suppress_context__
