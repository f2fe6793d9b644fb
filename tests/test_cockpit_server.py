"""The Cockpit stand-in checks JWTs as the g8cockpit does (docs/protocol.md, "The Cockpit") and serves AYS."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest
import requests

from iyo_magic.server.keys import SigningKey

from .conftest import ORG
from .test_iyo_server import get_jwt, org_token, user_token


def sign(standins, key=None, **claims):
    base = {"iss": "itsyouonline", "exp": int(time.time()) + 600, "globalid": ORG}
    base.update(claims)
    return pyjwt.encode(
        {k: v for k, v in base.items() if v is not None}, (key or standins.key).private, algorithm="ES384"
    )


def call(standins, header=None, cookie=None, path="/ays/repository"):
    return requests.get(
        standins.cockpit_url + path,
        headers={"Authorization": header} if header else {},
        cookies={"jwt": cookie} if cookie else {},
    )


@pytest.mark.parametrize(
    "header,text",
    [
        (None, "Not JWT token"),
        ("bearer", "Unauthorized"),
        ("token abc", "Your JWT is invalid"),
        ("bearer not-a-jwt", None),
    ],
)
def test_header_refusals(standins, header, text):
    r = call(standins, header)
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("text/html")
    if text:
        assert r.text == text
    else:
        assert r.text.startswith("JWT Error:")


@pytest.mark.parametrize(
    "claims,text",
    [
        ({"exp": int(time.time()) - 5}, "Your JWT has expired"),
        ({"aud": ["other-org"]}, "JWT Error: Invalid audience"),
        ({"iss": "someone-else"}, "JWT Error: Invalid issuer"),
        ({"iss": None}, "JWT Error: Invalid issuer"),
        ({"globalid": "other-org"}, "Unauthorized"),
        ({"globalid": None, "username": "alice", "scope": ["user:memberof:other-org"]}, "Unauthorized"),
        ({"globalid": None, "username": "alice", "scope": [f"user:memberof:{ORG}x"]}, "Unauthorized"),
    ],
    ids=["expired", "aud", "iss", "no-iss", "other-org", "not-member-scope", "substring-only"],
)
def test_claim_refusals(standins, claims, text):
    r = call(standins, "bearer " + sign(standins, **claims))
    assert (r.status_code, r.text) == (401, text)


def test_bad_signature(standins):
    r = call(standins, "bearer " + sign(standins, key=SigningKey.generate()))
    assert (r.status_code, r.text) == (401, "JWT Error: Signature verification failed.")


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"aud": [ORG, "x"]},
        {"globalid": None, "username": "alice", "scope": [f"user:memberof:{ORG}"]},
    ],
    ids=["org-globalid", "aud-contains-org", "user-memberof"],
)
def test_accepted(standins, claims):
    token = sign(standins, **claims)
    assert call(standins, "bearer " + token).status_code == 200
    assert call(standins, "Bearer " + token).status_code == 200


def test_cookie_is_read_before_header(standins):
    good = "bearer " + sign(standins)
    assert call(standins, header="bearer junk", cookie=good).status_code == 200
    assert call(standins, header=good, cookie="bearer junk").status_code == 401


def test_seed_recipes_over_http(standins):
    """Org: client credentials then /jwt?aud=ORG; user: /jwt?scope=user:memberof:ORG."""
    org_jwt = get_jwt(standins, org_token(standins), aud=ORG).text
    assert call(standins, f"bearer {org_jwt}").status_code == 200
    user_jwt = get_jwt(standins, user_token(standins), scope=f"user:memberof:{ORG}").text
    assert call(standins, f"bearer {user_jwt}").status_code == 200
    plain_user = get_jwt(standins, user_token(standins)).text  # scope user:admin only
    assert call(standins, f"bearer {plain_user}").text == "Unauthorized"


def test_ays_api_walkthrough(standins):
    s = requests.Session()
    s.headers["Authorization"] = "bearer " + sign(standins)
    api = standins.cockpit_url
    assert s.post(f"{api}/ays/repository", json={"name": "walk", "git_url": "g"}).status_code == 201
    assert s.post(f"{api}/ays/repository", json={"name": "walk", "git_url": "g"}).status_code == 409
    assert s.post(f"{api}/ays/repository", json={"name": "walk"}).status_code == 400  # ays9's schema, first
    assert s.get(f"{api}/ays/repository/walk").json()["name"] == "walk"
    bp = "node.ovc__vm1:\n  os: ubuntu\nsshkey__main:\n  key: k\n"
    assert s.post(f"{api}/ays/repository/walk/blueprint", json={"name": "bp1", "content": bp}).status_code == 201
    bad = s.post(f"{api}/ays/repository/walk/blueprint", json={"name": "bp2", "content": "a: [b"})
    assert bad.status_code == 400 and "YAML" in bad.json()["error"]
    assert [b["name"] for b in s.get(f"{api}/ays/repository/walk/blueprint").json()] == ["bp1"]
    executed = s.post(f"{api}/ays/repository/walk/blueprint/bp1").json()
    assert executed["services"] == ["node!vm1", "sshkey!main"]
    assert s.get(f"{api}/ays/repository/walk/service/node/vm1").json()["state"] == "new"
    run = s.post(f"{api}/ays/repository/walk/aysrun").json()
    assert run["state"] == "ok" and len(run["steps"][0]["jobs"]) == 2
    assert s.get(f"{api}/ays/repository/walk/aysrun/{run['key']}").json()["key"] == run["key"]
    assert s.get(f"{api}/ays/repository/walk/service/node/vm1").json()["state"] == "ok"
    assert s.put(f"{api}/ays/repository/walk/blueprint/bp1/archive").status_code == 200
    assert s.get(f"{api}/ays/repository/walk/blueprint", params={"archived": "True"}).json()[0]["archived"]
    assert s.delete(f"{api}/ays/repository/walk/service/node/vm1").status_code == 204
    assert s.get(f"{api}/ays/repository/walk/service").json() == [{"role": "sshkey", "name": "main"}]
    assert s.delete(f"{api}/ays/repository/walk").status_code == 204
    assert s.get(f"{api}/ays/repository/walk").status_code == 404


def test_the_operations_ays9s_server_answers_its_own_way_over_plain_http(standins):
    """updateTemplates, configure-jslocation, an actor's actions and an empty git_url, as ays9's
    ays_api.py and views.py answer them (../shared/cockpit-api.md)."""
    s = requests.Session()
    s.headers["Authorization"] = "bearer " + sign(standins)
    repo = f"{standins.cockpit_url}/ays/repository/production"
    update = s.get(f"{repo}/template/update")
    assert (update.status_code, update.json()) == (200, {"message": "Templates Updated"})
    assert s.get(f"{standins.cockpit_url}/ays/repository/nope/template/update").status_code == 404
    configured = s.post(f"{repo}/configure-jslocation", json={"jslocation": "j.clients.openvcloud", "instance": "a"})
    assert (configured.status_code, configured.json()) == (201, {"message": "Instance configured"})
    invalid = s.post(f"{repo}/configure-jslocation", json={"jslocation": "clients.openvcloud", "instance": "a"})
    assert (invalid.status_code, invalid.json()["error"]) == (400, "Invalid location")
    assert s.post(f"{repo}/configure-jslocation", json={"jslocation": "j.clients.x"}).status_code == 400
    actor = s.get(f"{repo}/actor/node.ovc").json()
    assert [a["name"] for a in actor["actions"]] == sorted(["install", "start", "stop", "monitor", "uninstall"])
    for action in actor["actions"]:
        assert set(action) == {"name", "code", "state", "recurring"}
        assert action["recurring"] == ({"period": 300} if action["name"] == "monitor" else None)
    assert s.put(f"{repo}/actor/node.ovc").json()["actions"] == actor["actions"]
    created = s.post(f"{standins.cockpit_url}/ays/repository", json={"name": "no-git", "git_url": ""})
    assert (created.status_code, created.json()["git_url"]) == (201, "")
    assert s.post(f"{standins.cockpit_url}/ays/repository", json={"name": "x", "git_url": 3}).status_code == 400
    assert s.delete(f"{standins.cockpit_url}/ays/repository/no-git").status_code == 204
