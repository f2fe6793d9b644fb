"""The ItsYou.online stand-in answers as the real server does (docs/protocol.md)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl, urlsplit

import jwt as pyjwt
import pytest
import requests

from iyo_magic.server.keys import SigningKey

from .conftest import ALICE, ALICE_APP, ALICE_SECRET, BOB_APP, BOB_SECRET, BROWSER_ONLY_SECRET, ORG, ORG_SECRET

TOKEN = "/v1/oauth/access_token"


def claims(standins, token: str, verify_exp: bool = True) -> dict:
    options = {"verify_aud": False, "verify_exp": verify_exp}
    return pyjwt.decode(token, standins.key.public_pem, algorithms=["ES384"], options=options)


def post_token(standins, headers=None, **form):
    """POST the token endpoint: client credentials of the organization unless ``form`` says otherwise."""
    data = {"grant_type": "client_credentials", "client_id": ORG, "client_secret": ORG_SECRET, **form}
    return requests.post(standins.iyo_url + TOKEN, data=data, headers=headers)


def org_token(standins) -> str:
    return post_token(standins).json()["access_token"]


def user_token(standins, app=ALICE_APP, secret=ALICE_SECRET) -> str:
    return post_token(standins, client_id=app, client_secret=secret).json()["access_token"]


def get_jwt(standins, access_token, scheme="token", **params):
    header = f"{scheme} {access_token}" if scheme else access_token
    return requests.get(standins.iyo_url + "/v1/oauth/jwt", params=params, headers={"Authorization": header})


class TestTokenEndpoint:
    def test_org_key_gets_organization_owner_with_go_json_shape(self, standins):
        r = post_token(standins)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert r.text.endswith("}\n") and ", " not in r.text  # Go's compact encoder
        body = r.json()
        assert list(body) == ["access_token", "token_type", "scope", "expires_in", "info"]
        assert len(body["access_token"]) == 28
        assert body["token_type"] == "bearer"
        assert body["scope"] == "organization:owner,"
        assert 85790 <= body["expires_in"] <= 85800
        assert body["info"] == {"username": ""}
        assert "refresh_token" not in body

    def test_user_key_gets_user_admin(self, standins):
        body = post_token(standins, client_id=ALICE_APP, client_secret=ALICE_SECRET).json()
        assert body["scope"] == "user:admin,"
        assert body["info"] == {"username": "alice"}

    def test_parameters_in_query_string_work(self, standins):
        r = requests.post(
            standins.iyo_url + TOKEN,
            params={"grant_type": "client_credentials", "client_id": ORG, "client_secret": ORG_SECRET},
        )
        assert r.status_code == 200

    def test_secret_by_http_basic(self, standins):
        r = requests.post(standins.iyo_url + TOKEN, data={"grant_type": "client_credentials"}, auth=(ORG, ORG_SECRET))
        assert r.status_code == 200 and r.json()["scope"] == "organization:owner,"

    @pytest.mark.parametrize(
        "data",
        [
            {"grant_type": "client_credentials", "client_id": ORG, "client_secret": "wrong"},
            {"grant_type": "client_credentials", "client_id": ORG},
            {"grant_type": "password", "client_id": ORG, "client_secret": ORG_SECRET},
            {"client_id": ORG, "client_secret": ORG_SECRET},
            {"grant_type": "client_credentials", "client_id": ORG, "client_secret": BROWSER_ONLY_SECRET},
        ],
        ids=["bad-secret", "no-secret", "unsupported-grant", "no-grant-no-code", "org-key-without-cc-flag"],
    )
    def test_errors_are_400_bare_text(self, standins, data):
        r = requests.post(standins.iyo_url + TOKEN, data=data)
        assert r.status_code == 400
        assert r.text == "Bad Request\n"
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"

    def test_wrong_method_is_404(self, standins):
        assert requests.get(standins.iyo_url + TOKEN).status_code == 404

    def test_options_answers_cors(self, standins):
        r = requests.options(standins.iyo_url + TOKEN, headers={"Access-Control-Request-Headers": "x-a"})
        assert r.headers["Access-Control-Allow-Methods"] == "POST"
        assert r.headers["Access-Control-Allow-Headers"] == "x-a"

    def test_id_token_variant_returns_raw_jwt_or_json(self, standins):
        data = {
            "grant_type": "client_credentials",
            "client_id": ALICE_APP,
            "client_secret": ALICE_SECRET,
            "response_type": "id_token",
            "scope": f"user:memberof:{ORG},offline_access",
            "validity": "300",
        }
        raw = requests.post(standins.iyo_url + TOKEN, data=data)
        assert raw.headers["Content-Type"] == "application/jwt"
        assert not raw.text.endswith("\n")
        c = claims(standins, raw.text)
        assert c["scope"] == [f"user:memberof:{ORG}"] and c["username"] == "alice"
        assert "refresh_token" in c and c["exp"] <= time.time() + 301
        as_json = requests.post(standins.iyo_url + TOKEN, data=data, headers={"Accept": "application/json"})
        assert as_json.headers["Content-Type"] == "application/json"
        assert claims(standins, as_json.json()["access_token"])["username"] == "alice"

    def test_id_token_variant_refused_scope_is_401(self, standins):
        r = post_token(standins, response_type="id_token", scope=f"user:memberof:{ORG}")
        assert r.status_code == 401 and r.text == "Unauthorized\n"

    def test_id_token_variant_does_not_save_the_access_token(self, standins):
        before = len(standins.iyo.state.access_tokens)
        assert post_token(standins, response_type="id_token").status_code == 200
        assert len(standins.iyo.state.access_tokens) == before


class TestJwtEndpoint:
    def test_org_jwt_claims_alphabetical_with_aud(self, standins):
        r = get_jwt(standins, org_token(standins), aud=ORG)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/jwt"
        header = pyjwt.get_unverified_header(r.text)
        assert header == {"alg": "ES384", "typ": "JWT"}
        c = claims(standins, r.text)
        assert list(c) == sorted(c)
        assert c["globalid"] == ORG and c["azp"] == ORG and c["aud"] == [ORG]
        assert c["scope"] == ["organization:owner"] and c["iss"] == "itsyouonline"
        assert "username" not in c and "refresh_token" not in c and "iat" not in c

    def test_aud_only_when_asked(self, standins):
        assert "aud" not in claims(standins, get_jwt(standins, org_token(standins)).text)

    def test_bare_token_header_works_capital_token_fails(self, standins):
        token = org_token(standins)
        assert get_jwt(standins, token, scheme="").status_code == 200
        assert get_jwt(standins, token, scheme="Token").status_code == 401

    def test_bearer_with_opaque_token_fails(self, standins):
        assert get_jwt(standins, org_token(standins), scheme="bearer").status_code == 401

    def test_unknown_token_and_no_header_401(self, standins):
        assert get_jwt(standins, "x" * 28).status_code == 401
        assert requests.get(standins.iyo_url + "/v1/oauth/jwt").status_code == 401

    def test_org_token_cannot_get_user_scopes(self, standins):
        r = get_jwt(standins, org_token(standins), scope=f"user:memberof:{ORG}")
        assert r.status_code == 401 and r.text == "Unauthorized\n"

    def test_user_admin_covers_memberof_and_membership_filters_silently(self, standins):
        token = user_token(standins)
        c = claims(standins, get_jwt(standins, token, scope=f"user:memberof:{ORG},user:memberof:other-org").text)
        assert c["scope"] == [f"user:memberof:{ORG}"]  # alice is not in other-org: dropped, 200
        c = claims(
            standins, get_jwt(standins, user_token(standins, BOB_APP, BOB_SECRET), scope=f"user:memberof:{ORG}").text
        )
        assert c["scope"] == [""]  # nothing left: Go's [""]

    def test_default_scope_is_all_and_offline_access_adds_refresh_token(self, standins):
        c = claims(standins, get_jwt(standins, user_token(standins), scope="offline_access").text)
        assert c["scope"] == ["user:admin"] and len(c["refresh_token"]) == 28

    def test_validity_only_shortens(self, standins):
        token = org_token(standins)
        short = claims(standins, get_jwt(standins, token, validity="60").text)
        assert abs(short["exp"] - (time.time() + 60)) < 3
        for ignored in ("-5", "abc", str(10**7)):
            c = claims(standins, get_jwt(standins, token, validity=ignored).text)
            assert c["exp"] > time.time() + 80000

    def test_post_form_works_json_body_ignored(self, standins):
        token = org_token(standins)
        r = requests.post(
            standins.iyo_url + "/v1/oauth/jwt", data={"aud": ORG}, headers={"Authorization": f"token {token}"}
        )
        assert claims(standins, r.text)["aud"] == [ORG]
        r = requests.post(
            standins.iyo_url + "/v1/oauth/jwt",
            data=json.dumps({"aud": ORG}),
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )
        assert "aud" not in claims(standins, r.text)

    def test_case3_jwt_from_refreshable_user_jwt(self, standins):
        parent = get_jwt(standins, user_token(standins), scope=f"user:memberof:{ORG},offline_access").text
        r = get_jwt(standins, parent, scheme="bearer", scope=f"user:memberof:{ORG}", aud=ORG)
        c = claims(standins, r.text)
        assert c["scope"] == [f"user:memberof:{ORG}"] and c["aud"] == [ORG] and c["globalid"] is None
        refused = get_jwt(standins, parent, scheme="bearer", scope="organization:owner")
        assert refused.status_code == 401

    def test_case3_quirks_org_parent_and_non_refreshable_parent_500(self, standins):
        org_parent = get_jwt(standins, org_token(standins)).text
        assert get_jwt(standins, org_parent, scheme="bearer").status_code == 500
        plain = get_jwt(standins, user_token(standins), scope=f"user:memberof:{ORG}").text
        assert get_jwt(standins, plain, scheme="bearer", scope="offline_access").status_code == 401
        assert get_jwt(standins, plain, scheme="bearer").status_code == 500


class TestRefresh:
    def refreshable(self, standins, **params):
        return get_jwt(standins, user_token(standins), scope=f"user:memberof:{ORG},offline_access", **params).text

    def test_refresh_keeps_claims_and_refresh_token(self, standins):
        old = self.refreshable(standins, validity="30", aud=ORG)
        r = requests.get(standins.iyo_url + "/v1/oauth/jwt/refresh", headers={"Authorization": f"bearer {old}"})
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/jwt"
        before, after = claims(standins, old), claims(standins, r.text)
        assert after["refresh_token"] == before["refresh_token"]
        assert after["aud"] == [ORG] and after["username"] == "alice"
        assert after["exp"] > time.time() + 80000  # default 24 h even though the original was short

    def test_refresh_ignores_expiry(self, standins, monkeypatch):
        monkeypatch.setattr(standins.iyo, "clock", lambda: time.time() - 3600)  # issued an hour ago
        old = self.refreshable(standins, validity="1")
        monkeypatch.undo()
        assert claims(standins, old, verify_exp=False)["exp"] < time.time()
        assert (
            requests.get(
                standins.iyo_url + "/v1/oauth/jwt/refresh",
                headers={"Authorization": f"Bearer {old}"},
                params={"validity": "100"},
            ).status_code
            == 200
        )

    def test_refresh_refusals(self, standins):
        url = standins.iyo_url + "/v1/oauth/jwt/refresh"
        plain = get_jwt(standins, org_token(standins)).text
        assert requests.get(url, headers={"Authorization": f"bearer {plain}"}).status_code == 401
        assert requests.get(url, headers={"Authorization": f"token {plain}"}).status_code == 401
        forged = pyjwt.encode(
            {"iss": "itsyouonline", "refresh_token": "x"},
            SigningKey.generate().private,
            algorithm="ES384",
        )
        assert requests.get(url, headers={"Authorization": f"bearer {forged}"}).status_code == 401


class TestAuthorizeEndpoint:
    def authorize_params(self, **extra):
        params = {
            "response_type": "code",
            "client_id": ORG,
            "redirect_uri": "http://127.0.0.1:8976/callback",
            "scope": f"user:memberof:{ORG}",
            "state": "s1",
        }
        params.update(extra)
        return params

    def login(self, standins) -> requests.Session:
        browser = requests.Session()
        r = browser.post(
            standins.iyo_url + "/login",
            data={"username": "alice", "password": ALICE["password"]},
            allow_redirects=False,
        )
        assert r.status_code == 302
        return browser

    def test_not_logged_in_redirects_to_login_page(self, standins):
        r = requests.get(
            standins.iyo_url + "/v1/oauth/authorize", params=self.authorize_params(), allow_redirects=False
        )
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?")
        assert "endpoint=%2Fv1%2Foauth%2Fauthorize" in r.headers["Location"]
        page = requests.get(standins.iyo_url + r.headers["Location"])
        assert "<label for=username>" in page.text and "type=password" in page.text

    def test_wrong_password_stays_on_login_page(self, standins):
        r = requests.post(standins.iyo_url + "/login", data={"username": "alice", "password": "nope"})
        assert r.status_code == 401 and "Wrong username or password" in r.text

    def test_consent_then_code_with_state(self, standins):
        browser = self.login(standins)
        r = browser.get(standins.iyo_url + "/v1/oauth/authorize", params=self.authorize_params(), allow_redirects=False)
        assert r.headers["Location"].startswith("/authorize?")
        page = browser.get(standins.iyo_url + r.headers["Location"])
        assert "Authorize" in page.text and "Decline" in page.text and f"user:memberof:{ORG}" in page.text
        fields = dict(parse_qsl(r.headers["Location"].split("?", 1)[1]))
        r = browser.post(
            standins.iyo_url + "/authorize", data={**fields, "decision": "authorize"}, allow_redirects=False
        )
        r = browser.get(standins.iyo_url + r.headers["Location"], allow_redirects=False)
        location = r.headers["Location"]
        assert location.startswith("http://127.0.0.1:8976/callback?code=") and location.endswith("&state=s1")
        # consent is remembered: the next authorize goes straight to the callback
        again = browser.get(
            standins.iyo_url + "/v1/oauth/authorize", params=self.authorize_params(state=""), allow_redirects=False
        )
        assert again.headers["Location"].endswith("&state=")

    @pytest.mark.parametrize(
        "uri",
        [
            "http://evil.example/callback",
            "https://x.itsyou.online/callback",
            "http://127.0.0.1:8977/callback",
            "",
            "http://127.0.0.1:8976/callback%0d%0aSet-Cookie:%20x=1",  # a control character: it does not parse
            "http://127.0.0.1:8976/callback\t",
        ],
    )
    def test_unregistered_redirect_uri_400_no_redirect(self, standins, uri):
        browser = self.login(standins)
        r = browser.get(
            standins.iyo_url + "/v1/oauth/authorize",
            params=self.authorize_params(redirect_uri=uri),
            allow_redirects=False,
        )
        assert r.status_code == 400 and r.text == "Bad Request\n"

    def test_prefix_matched_redirect_uri_accepted(self, standins):
        browser = self.login(standins)
        self.consent(standins, browser)
        for uri in ("http://127.0.0.1:8976/callback/sub", "http://127.0.0.1:8976/callbackX"):
            r = browser.get(
                standins.iyo_url + "/v1/oauth/authorize",
                params=self.authorize_params(redirect_uri=uri),
                allow_redirects=False,
            )
            assert r.headers["Location"].startswith(uri + "?code=")

    def consent(self, standins, browser):
        r = browser.get(standins.iyo_url + "/v1/oauth/authorize", params=self.authorize_params(), allow_redirects=False)
        if r.headers["Location"].startswith("/authorize?"):
            fields = dict(parse_qsl(r.headers["Location"].split("?", 1)[1]))
            browser.post(standins.iyo_url + "/authorize", data={**fields, "decision": "authorize"})

    def code(self, standins, **extra) -> str:
        browser = self.login(standins)
        self.consent(standins, browser)
        r = browser.get(
            standins.iyo_url + "/v1/oauth/authorize", params=self.authorize_params(**extra), allow_redirects=False
        )
        return dict(parse_qsl(r.headers["Location"].split("?", 1)[1]))["code"]

    def exchange(self, standins, the_code, **overrides):
        data = {
            "client_id": ORG,
            "client_secret": ORG_SECRET,
            "code": the_code,
            "redirect_uri": "http://127.0.0.1:8976/callback",
            "state": "s1",
        }
        data.update(overrides)
        return requests.post(standins.iyo_url + TOKEN, data={k: v for k, v in data.items() if v is not None})

    def test_code_exchange_and_reuse_within_lifetime(self, standins):
        code = self.code(standins)
        first = self.exchange(standins, code)
        assert first.json()["scope"] == f"user:memberof:{ORG}," and first.json()["info"] == {"username": "alice"}
        assert self.exchange(standins, code, state=None, grant_type="authorization_code").status_code == 200

    @pytest.mark.parametrize(
        "overrides",
        [
            {"state": "other"},
            {"redirect_uri": "http://127.0.0.1:8976/callback/x"},
            {"client_secret": "wrong"},
            {"code": "unknown"},
            {"client_secret": BROWSER_ONLY_SECRET + "x"},
        ],
        ids=["state", "redirect-uri", "secret", "code", "secret2"],
    )
    def test_code_exchange_refusals_400(self, standins, overrides):
        r = self.exchange(standins, self.code(standins), **overrides)
        assert r.status_code == 400 and r.text == "Bad Request\n"

    def test_code_expires(self, standins, monkeypatch):
        code = self.code(standins)
        monkeypatch.setattr(standins.iyo, "code_lifetime", 0.2)
        time.sleep(0.3)
        assert self.exchange(standins, code).status_code == 400

    def test_decline_redirects_with_access_denied(self, standins):
        browser = requests.Session()
        browser.post(standins.iyo_url + "/login", data={"username": "bob", "password": "bob-demo-password-K2d"})
        r = browser.get(standins.iyo_url + "/v1/oauth/authorize", params=self.authorize_params(), allow_redirects=False)
        fields = dict(parse_qsl(r.headers["Location"].split("?", 1)[1]))
        r = browser.post(standins.iyo_url + "/authorize", data={**fields, "decision": "decline"}, allow_redirects=False)
        assert r.headers["Location"] == "http://127.0.0.1:8976/callback?error=access_denied&state=s1"


def test_the_login_page_shows_the_demo_users_only_with_the_demo_accounts(standins):
    from iyo_magic.server import Accounts, StandIns

    page = requests.get(standins.iyo_url + "/login", timeout=5).text
    assert f"<code>alice</code> / <code>{ALICE['password']}</code>" in page
    own = Accounts.from_dict({"users": [{"username": "carol", "password": "carol-own-password"}]})
    with StandIns(own) as servers:
        assert "carol-own-password" not in requests.get(servers.iyo_url + "/login", timeout=5).text


HUB = "https://hub.invalid"  # never reached: the tests read the redirects, never follow them


@pytest.fixture(scope="module")
def callback_standins():
    """An organization with two API keys: one registered as a services prefix (the risk), one as
    a single server's callback ending in ``?`` (what the magic tells users to register)."""
    import copy

    from iyo_magic.server import Accounts, StandIns
    from iyo_magic.server.accounts import DEMO

    accounts = copy.deepcopy(DEMO)
    keys = accounts["organizations"][0]["api_keys"]
    keys[0]["callback_url"] = f"{HUB}/services/x/callback"
    keys[1]["callback_url"] = f"{HUB}/user/u1/iyo/callback?"
    with StandIns(Accounts.from_dict(accounts)) as servers:
        yield servers


def authorize_as_alice(standins, redirect_uri: str, state: str = "s1") -> requests.Response:
    """Alice's browser (logged in, the organization authorized) asks for a code for ``redirect_uri``."""
    browser = requests.Session()
    browser.post(standins.iyo_url + "/login", data={"username": "alice", "password": ALICE["password"]})
    params = {"response_type": "code", "client_id": ORG, "scope": f"user:memberof:{ORG}", "state": state}
    url, query = standins.iyo_url + "/v1/oauth/authorize", {**params, "redirect_uri": redirect_uri}
    r = browser.get(url, params=query, allow_redirects=False)
    if r.headers.get("Location", "").startswith("/authorize?"):  # the consent page: authorize once
        consent = dict(parse_qsl(r.headers["Location"].split("?", 1)[1]))
        browser.post(standins.iyo_url + "/authorize", data={**consent, "decision": "authorize"}, allow_redirects=False)
    return browser.get(
        standins.iyo_url + "/v1/oauth/authorize", params={**params, "redirect_uri": redirect_uri}, allow_redirects=False
    )


def test_a_raw_prefix_admits_dot_segments_as_the_real_server_does(callback_standins):
    """The real risk, seen by the tests: a registered path prefix lets a link send the code to a
    URI the browser normalises to another user's server."""
    bent = f"{HUB}/services/x/callback/../../../user/u2/iyo/callback"
    r = authorize_as_alice(callback_standins, bent)
    assert r.status_code == 302 and r.headers["Location"].startswith(bent + "?code=")


@pytest.mark.parametrize(
    "uri",
    [
        f"{HUB}/user/u1/iyo/callback?/../../u2/iyo/callback",
        f"{HUB}/user/u1/iyo/callback?x=1#/../../u2/",
        f"{HUB}/user/u1/iyo/callback%3F/../../u2/iyo/callback",  # unescaped once more by the server
    ],
    ids=["dot-segments", "fragment", "escaped-question-mark"],
)
def test_a_callback_registered_with_a_question_mark_admits_nothing_outside_the_query(callback_standins, uri):
    r = authorize_as_alice(callback_standins, uri)
    if r.status_code == 302:
        target = urlsplit(r.headers["Location"])  # whatever was appended, the code goes to u1's page
        assert (target.scheme, target.netloc, target.path) == ("https", "hub.invalid", "/user/u1/iyo/callback")
    for outside in (f"{HUB}/user/u1/iyo/callback", f"{HUB}/user/u1/iyo/callback/../../u2/iyo/callback?"):
        assert authorize_as_alice(callback_standins, outside).status_code == 400


@pytest.mark.parametrize(
    "registered_uri,location_start",
    [
        (f"{HUB}/user/u1/iyo/callback?", f"{HUB}/user/u1/iyo/callback?&code="),
        (f"{HUB}/user/u1/iyo/callback?a=1", f"{HUB}/user/u1/iyo/callback?a=1&code="),
        (f"{HUB}/user/u1/iyo/callback?a=1&", f"{HUB}/user/u1/iyo/callback?a=1&code="),
        (f"{HUB}/services/x/callback", f"{HUB}/services/x/callback?code="),
    ],
    ids=["question-mark", "query", "ampersand", "no-query"],
)
def test_the_answer_is_appended_as_the_real_server_appends_it(callback_standins, registered_uri, location_start):
    location = authorize_as_alice(callback_standins, registered_uri, state="s 1").headers["Location"]
    assert location.startswith(location_start) and location.endswith("&state=s+1")
