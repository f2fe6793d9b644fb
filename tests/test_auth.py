"""IyoAuth over real HTTP: renewal before expiry, one renewal across threads, retry after a 401.

Staleness is judged by a clock the test sets (`Clock`, `make_stale`), never by waiting: the JWTs
themselves live the default 24 hours, so the machine's speed decides nothing.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from iyo_magic import RefreshError

from .conftest import ORG, ORG_SECRET, ApiFront, Clock, MagicFront, make_stale


def cockpit_get(standins, auth):
    return requests.get(standins.cockpit_url + "/ays/repository", auth=auth, timeout=10)


def test_sends_bearer_jwt_to_the_cockpit(standins):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET)["auth"]
    response = cockpit_get(standins, auth)
    assert response.status_code == 200
    assert response.request.headers["Authorization"] == f"bearer {auth.jwt}"


def test_no_request_to_iyo_while_the_jwt_is_valid(standins):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET)["auth"]
    before = sum(standins.iyo.hits.values())
    for _ in range(5):
        assert cockpit_get(standins, auth).status_code == 200
    assert sum(standins.iyo.hits.values()) == before and auth.renewals == 0


def test_leeway_is_at_most_half_the_lifetime(standins):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET, validity=100)["auth"]
    first = auth.jwt
    half_life = first.expires_at.timestamp() - first.lifetime / 2
    auth.clock = Clock(half_life - 1)  # within the 60 s leeway, but not yet half its life
    assert cockpit_get(standins, auth).status_code == 200 and auth.jwt is first
    auth.clock.now = half_life + 1
    before = dict(standins.iyo.hits)
    assert cockpit_get(standins, auth).status_code == 200
    assert auth.renewals == 1 and auth.jwt is not first
    assert standins.iyo.hits["refresh"] == before.get("refresh", 0) + 1  # the refresh endpoint


def test_not_refreshable_renews_from_the_access_token(standins):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET, refresh=False)["auth"]
    make_stale(auth)
    before = dict(standins.iyo.hits)
    assert cockpit_get(standins, auth).status_code == 200
    assert standins.iyo.hits["jwt"] == before["jwt"] + 1
    assert standins.iyo.hits["access_token"] == before["access_token"]


def test_jwt_only_not_refreshable_reruns_the_flow(standins):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET, refresh=False, jwt_only=True)["auth"]
    make_stale(auth)
    before = dict(standins.iyo.hits)
    assert cockpit_get(standins, auth).status_code == 200
    assert standins.iyo.hits["access_token"] == before["access_token"] + 1


def test_lost_refresh_token_falls_back_to_a_new_jwt(standins):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET)["auth"]
    standins.iyo.state.refresh_tokens.clear()  # e.g. the server forgot it
    make_stale(auth)
    assert cockpit_get(standins, auth).status_code == 200 and auth.renewals == 1


def test_retry_once_after_401(standins, monkeypatch):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET, public_key=None)["auth"]
    # ItsYou.online rotates its signing key: the Cockpit refuses the JWT we still think fresh.
    from iyo_magic.server.keys import SigningKey

    rotated = SigningKey.generate()
    monkeypatch.setattr(standins.iyo, "key", rotated)
    monkeypatch.setattr(standins.cockpit, "public_key_pem", rotated.public_pem)
    response = cockpit_get(standins, auth)
    assert response.status_code == 200 and auth.renewals == 1
    assert [r.status_code for r in response.history] == [401]


def test_retry_is_only_once(standins, monkeypatch):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET)["auth"]
    monkeypatch.setattr(standins.cockpit, "organization", "someone-else")
    response = cockpit_get(standins, auth)
    assert response.status_code == 401 and len(response.history) == 1 and auth.renewals == 1


@pytest.mark.parametrize("threads", [16])
def test_one_renewal_across_threads(standins, monkeypatch, threads):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET)["auth"]
    make_stale(auth)  # its clock stands there however long the threads take
    # ItsYou.online's clock is a few seconds on (too few for a client to correct for): the JWT it
    # issues now is fresh by the standing clock, so a second renewal can only be the lock's fault.
    monkeypatch.setattr(standins.iyo, "clock", lambda: time.time() + 5)
    barrier = threading.Barrier(threads)
    statuses = []

    def worker():
        barrier.wait()
        statuses.append(cockpit_get(standins, auth).status_code)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert statuses == [200] * threads and auth.renewals == 1


def test_renewal_failure_is_one_clear_error(standins, monkeypatch):
    auth = ApiFront(standins, None).run(ORG, ORG_SECRET, refresh=False, jwt_only=True)["auth"]
    make_stale(auth)
    monkeypatch.setattr(standins.accounts, "organizations", {})  # the key was revoked
    with pytest.raises(RefreshError, match="could not renew the JWT: .*client id or secret rejected") as info:
        cockpit_get(standins, auth)
    assert ORG_SECRET not in str(info.value)


def test_magic_keeps_the_namespace_jwt_current(standins, ip, capsys):
    front = MagicFront(standins, ip)
    front.run(ORG, ORG_SECRET)
    first = ip.user_ns["iyo_jwt"]
    make_stale(ip.user_ns["iyo_auth"])
    ip.user_ns["iyo_cockpit"].get("/ays/repository")
    assert ip.user_ns["iyo_jwt"] is not first and ip.user_ns["iyo_jwt"] is ip.user_ns["iyo_auth"].jwt
    assert ip.user_ns["iyo_auth"].renewals == 1 and ip.user_ns["iyo_jwt"].expires_at >= first.expires_at


def test_another_http_library_is_a_page_over_the_same_keeper(standins, monkeypatch):
    """The keeper knows no HTTP library: an httpx adapter is these dozen lines, and it shares the
    login's JWT, renewals and 401 bookkeeping with the requests one."""
    httpx = pytest.importorskip("httpx")
    from iyo_magic.auth.keeper import authorization

    class HttpxIyoAuth(httpx.Auth):
        def __init__(self, keeper):
            self.keeper = keeper

        def auth_flow(self, request):
            sent_with = self.keeper.current()
            request.headers["Authorization"] = authorization(sent_with)
            response = yield request
            if response.status_code == 401:
                fresh = self.keeper.after_401(sent_with, str(request.url), str(response.request.url))
                if fresh is not None:
                    request.headers["Authorization"] = authorization(fresh)
                    yield request

    auth = ApiFront(standins, None).run(ORG, ORG_SECRET, public_key=None)["auth"]
    url = standins.cockpit_url + "/ays/repository"
    with httpx.Client(auth=HttpxIyoAuth(auth.keeper), trust_env=False, timeout=10) as client:
        response = client.get(url)
        assert response.status_code == 200 and response.request.headers["Authorization"] == f"bearer {auth.jwt}"
        first = auth.jwt
        make_stale(auth)
        assert client.get(url).status_code == 200 and auth.renewals == 1 and auth.jwt is not first
        auth.clock = time.time  # from here the JWTs are fresh (they live 24 h): only 401s renew them
        from iyo_magic.server.keys import SigningKey

        rotated = SigningKey.generate()  # the Cockpit refuses the JWT we still think fresh
        monkeypatch.setattr(standins.iyo, "key", rotated)
        monkeypatch.setattr(standins.cockpit, "public_key_pem", rotated.public_pem)
        before = auth.jwt
        response = client.get(url)
        assert response.status_code == 200 and auth.renewals == 2 and auth.jwt is not before
        monkeypatch.setattr(standins.cockpit, "organization", "someone-else")
        assert client.get(url).status_code == 401 and auth.renewals == 2  # the answer to a 401: not again
    assert cockpit_get(standins, auth).status_code == 401 and auth.renewals == 2  # nor by the requests adapter
