"""A remembered JWT survives ItsYou.online's failures: only a definite 400 or 401 from the refresh
endpoint deletes it; a 5xx, a timeout or no connection keeps it and says to try again. Renewal
messages tell "failed, try again" from "cannot be refreshed any more". Faults are the stand-in's
own refresh endpoint answering otherwise, over real HTTP."""

from __future__ import annotations

import threading
import time

import pytest
from IPython.core.error import UsageError
from werkzeug.wrappers import Response

from iyo_magic import IyoError, RefreshError, login
from iyo_magic.remember.store import LoginKey, RememberedJwts

from .conftest import ALICE_SECRET, make_stale
from .test_remember import SCOPE, alice_request, kept_file, no_secret, restart, run

KEPT = "ItsYou.online failed; the remembered JWT is kept; try again"


def server_error(request):
    return Response("Internal Server Error\n", 500, content_type="text/plain; charset=utf-8")


def test_a_server_error_keeps_the_remembered_jwt_and_says_try_again(ip, alice_env, monkeypatch):
    line = f"--remember --scope {SCOPE}"
    run(ip, line)
    path = kept_file(alice_request(alice_env))
    kept = path.read_text()
    restart(ip)
    monkeypatch.delenv("IYO_CLIENT_SECRET")  # the point of --remember: a kernel without the secret
    with monkeypatch.context() as fault, pytest.raises(UsageError) as failed:
        fault.setattr(alice_env.iyo, "on_refresh", server_error)
        run(ip, line)
    message = str(failed.value)
    assert message.startswith(KEPT + " (JWT refresh: HTTP 500") and "\n" not in message and kept not in message
    assert path.read_text() == kept  # not deleted
    assert "remembered JWT refreshed: no login" in run(ip, line)  # ItsYou.online is back: no secret needed


def test_a_timeout_or_no_connection_keeps_it_too(standins, monkeypatch):
    request = alice_request(standins, timeout=0.5)
    first = login(request, ALICE_SECRET, remember=True)

    def slow(request):
        time.sleep(2)
        return server_error(request)

    monkeypatch.setattr(standins.iyo, "on_refresh", slow)
    with pytest.raises(RefreshError, match=f"^{KEPT} \\(JWT refresh: no answer from .* within 0.5 s"):
        login(request, no_secret, remember=True)
    assert kept_file(request).read_text() == first.jwt.reveal()

    unreachable = request.replace(base_url="http://127.0.0.1:9")  # nothing listens there
    RememberedJwts().write(LoginKey.of(unreachable), first.jwt)
    with pytest.raises(RefreshError, match=f"^{KEPT} \\(JWT refresh: cannot reach 127.0.0.1:9"):
        login(unreachable, no_secret, remember=True)
    assert kept_file(unreachable).read_text() == first.jwt.reveal()


@pytest.mark.parametrize("code", [400, 401])
def test_a_definite_no_deletes_it_and_logs_in_as_usual(standins, monkeypatch, code):
    request = alice_request(standins)
    login(request, ALICE_SECRET, remember=True)
    monkeypatch.setattr(standins.iyo, "on_refresh", lambda request: Response("no\n", code))
    notes: list[str] = []
    result = login(request, ALICE_SECRET, remember=True, notice=notes.append)
    assert len(notes) == 1 and notes[0].startswith("the remembered JWT could not be refreshed (")
    assert notes[0].endswith("); logging in as usual") and not result.resumed
    assert kept_file(request).read_text() == result.jwt.reveal()  # the new login replaced it


def test_sixteen_threads_with_every_other_refresh_failing_are_told_to_try_again(standins, monkeypatch):
    request = alice_request(standins)
    login(request, ALICE_SECRET, remember=True)
    resumed = login(request, no_secret, remember=True)  # renewed by the refresh endpoint only
    assert resumed.resumed
    real, calls, count = standins.iyo.on_refresh, [0], threading.Lock()

    def every_other(request):
        with count:
            calls[0] += 1
            fail = calls[0] % 2 == 1
        return server_error(request) if fail else real(request)

    monkeypatch.setattr(standins.iyo, "on_refresh", every_other)
    auth, errors, got = resumed.auth, [], []

    def call(start):
        start.wait()
        try:
            got.append(auth.current())
        except IyoError as exc:
            errors.append(str(exc))

    for _ in range(4):  # each round: the JWT is stale, 16 threads want it at once
        make_stale(auth)
        start = threading.Barrier(16)
        threads = [threading.Thread(target=call, args=(start,)) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors and got and len(errors) + len(got) == 64, (errors, len(got))
    assert all(error.startswith("could not renew the JWT: ItsYou.online failed (") for error in errors), errors
    assert all(error.endswith("; try again") and "no longer" not in error for error in errors), errors
    assert kept_file(request).read_text() == auth.jwt.reveal()  # the renewals were written back
