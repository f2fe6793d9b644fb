"""One table of the Cockpit generations' JWT rules (``iyo_magic.cockpit.rules``): the stand-in
answers each generation's every 401 with the table's text, lets through the claims the table says,
and ``--cockpit-rules`` offers its names; the client advises on each 401 text. All over HTTP."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import time

import pytest
import requests

from iyo_magic import CockpitError, CockpitSession
from iyo_magic.cockpit.rules import AZP, GENERATIONS, GLOBALID, MEMBER_OF, Generation
from iyo_magic.server import StandIns
from iyo_magic.server.cli import main
from iyo_magic.server.cockpit_server import CockpitServer
from iyo_magic.server.keys import SigningKey

from .conftest import ORG
from .test_cockpit_server import sign


@pytest.fixture(scope="module", params=list(GENERATIONS))
def cockpit(request):
    """Stand-ins whose Cockpit keeps one generation's rules; and those rules."""
    with StandIns(cockpit_rules=request.param) as servers:
        yield servers, GENERATIONS[request.param]


def header_with_alg(alg) -> str:
    """A bearer credential whose JWT header names ``alg``: a list makes the decoder fail unexpectedly."""
    part = base64.urlsafe_b64encode(json.dumps({"alg": alg}).encode()).rstrip(b"=").decode()
    return f"bearer {part}.{part}.AAAA"


#: For each 401 of the table, a credential that provokes it (``servers`` signs the JWTs).
PROVOKE = {
    "no_jwt": lambda servers: None,
    "malformed": lambda servers: "bearer",
    "not_bearer": lambda servers: "token abc",
    "expired": lambda servers: "bearer " + sign(servers, exp=int(time.time()) - 5),
    "bad_audience": lambda servers: "bearer " + sign(servers, aud=["other-org"]),
    "bad_issuer": lambda servers: "bearer " + sign(servers, iss="someone-else"),
    "bad_signature": lambda servers: "bearer " + sign(servers, key=SigningKey.generate()),
    "jwt_error": lambda servers: "bearer not-a-jwt",
    "unexpected": lambda servers: header_with_alg(["ES384"]),
    "not_admitted": lambda servers: "bearer " + sign(servers, globalid="other-org"),
}
CLAIMS_HINT = (
    "it wants globalid=ORG (an organization JWT) or scope user:memberof:ORG (a user JWT, --scope "
    "user:memberof:ORG); this session's .auth was replaced, so its JWT is unknown here: set .auth = iyo_auth"
)
#: What the client advises for each 401.
ADVICE = {
    "no_jwt": "no JWT was sent; pass auth=iyo_auth or use iyo_cockpit",
    "malformed": CLAIMS_HINT,
    "not_bearer": CLAIMS_HINT,
    "expired": "the JWT expired and was not renewed; run %iyo_token --fresh",
    "bad_audience": "the JWT's aud does not name the Cockpit's organization; ask for it with --aud ORG (or drop --aud)",
    "bad_issuer": "the JWT was not issued by ItsYou.online",
    "bad_signature": "the Cockpit trusts another ItsYou.online key; check --base-url",
    "jwt_error": CLAIMS_HINT,
    "unexpected": CLAIMS_HINT,
    "not_admitted": CLAIMS_HINT,
}
TEXTS = [
    field.name for field in dataclasses.fields(Generation) if field.name not in ("name", "accepts", "content_type")
]


def call(servers, header):
    """A plain GET of the repositories, with ``header`` as the credential (none when None)."""
    return requests.get(servers.cockpit_url + "/ays/repository", headers={"Authorization": header} if header else {})


def client(servers, header) -> CockpitSession:
    """The Cockpit client, sending ``header`` as its credential (none when None)."""

    def send(request):
        if header:
            request.headers["Authorization"] = header
        return request

    session = CockpitSession(servers.cockpit_url, None)
    session.auth = send
    return session


def as_pattern(text: str) -> str:
    """The table's text as a regular expression: its ``{}`` is any detail."""
    return re.escape(text).replace(r"\{\}", ".+")


def test_every_401_of_the_table_has_a_provocation_and_advice():
    assert sorted(PROVOKE) == sorted(TEXTS) == sorted(ADVICE)


def test_the_generations_as_their_sources_have_them():
    """docs/protocol.md, "The Cockpit": ays9 is g8cockpit but for azp, its framework and one text."""
    g8cockpit, ays9 = GENERATIONS["g8cockpit"], GENERATIONS["ays9"]
    assert (g8cockpit.accepts, ays9.accepts) == ((GLOBALID, MEMBER_OF), (GLOBALID, MEMBER_OF, AZP))
    assert (g8cockpit.no_jwt, ays9.no_jwt) == ("Not JWT token", "No JWT token")
    assert (g8cockpit.content_type, ays9.content_type) == ("text/html; charset=utf-8", "text/plain; charset=utf-8")
    same = [kind for kind in TEXTS if kind != "no_jwt"]
    assert [getattr(ays9, kind) for kind in same] == [getattr(g8cockpit, kind) for kind in same]


def test_ays9_answers_a_request_without_a_jwt_in_its_own_words():
    with StandIns(cockpit_rules="ays9") as servers:
        answer = call(servers, None)
    assert (answer.status_code, answer.text) == (401, "No JWT token")
    assert answer.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("kind", TEXTS)
def test_the_stand_in_answers_each_401_with_its_generations_text(cockpit, kind):
    servers, rules = cockpit
    answer = call(servers, PROVOKE[kind](servers))
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == rules.content_type
    assert re.fullmatch(as_pattern(getattr(rules, kind)), answer.text), answer.text


@pytest.mark.parametrize("kind", TEXTS)
def test_the_client_advises_on_each_401_text(cockpit, kind):
    servers, rules = cockpit
    with pytest.raises(CockpitError) as error:
        client(servers, PROVOKE[kind](servers)).list_repositories()
    text = error.value.body
    assert re.fullmatch(as_pattern(getattr(rules, kind)), text), text
    assert str(error.value) == f"Cockpit answered 401 to GET /api/ays/repository {text!r}: {ADVICE[kind]}"


@pytest.mark.parametrize("claim", [GLOBALID, MEMBER_OF, AZP], ids=lambda claim: claim.name)
def test_each_generation_lets_through_the_claims_it_accepts_and_no_other(cockpit, claim):
    servers, rules = cockpit
    value = claim.value.format(org=ORG)
    only = {"globalid": None, claim.name: [value] if claim.contains else value}
    answer = call(servers, "bearer " + sign(servers, **only))
    assert answer.status_code == (200 if claim in rules.accepts else 401)


def test_cockpit_rules_offers_the_tables_generations(capsys):
    with pytest.raises(SystemExit) as help_asked:
        main(["serve", "--help"])
    assert help_asked.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "--cockpit-rules {" + ",".join(GENERATIONS) + "}" in shown
    assert "ays9 accepts globalid == ORG or user:memberof:ORG in scope or azp == ORG" in shown
    with pytest.raises(SystemExit) as refused:
        main(["serve", "--cockpit-rules", "g9cockpit"])
    assert refused.value.code == 2


def test_the_stand_in_refuses_rules_not_in_the_table():
    with pytest.raises(ValueError, match=f"^rules must be one of {', '.join(GENERATIONS)}$"):
        CockpitServer(ORG, SigningKey.generate().public_pem, rules="g9cockpit")
