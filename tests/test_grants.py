"""The grant table (`iyo_magic.oauth.grants`): what the Python API, the magic's ``--flow`` and the form's
dropdown accept comes from it, and each fact it states about a grant is what a login over real
HTTP does."""

from __future__ import annotations

import re

import pytest
from IPython.core.error import UsageError

from iyo_magic import ConfigError, LoginForm, LoginRequest, RefreshError, login
from iyo_magic.browser.step import BrowserStep
from iyo_magic.oauth.grants import GRANTS, flow_help, grant

from .conftest import ORG, ORG_SECRET, request_for
from .test_code_flow import Paster

#: What each grant does, written down apart from the table (so a wrong fact there fails here):
#: (name, the user logs in in a browser, --jwt-only is one round trip, renewal logs in again alone).
DOES = [
    ("client_credentials", False, True, True),
    ("authorization_code", True, False, False),
]
BY_NAME = [pytest.param(grant(name), *facts, id=name) for name, *facts in DOES]


def test_every_grant_has_its_behaviour_tested_here():
    assert [each.name for each in GRANTS] == [name for name, *_ in DOES]


def test_every_name_of_every_grant_is_taken_by_the_api_the_magic_and_the_form(ip, iyo_env):
    parser = ip.find_line_magic("iyo_token").parser_for_line()
    for each in GRANTS:
        for name in each.names:
            assert LoginRequest(client_id=ORG, flow=name).flow == each.name
            assert parser.parse_argstring(f"-f {name}").flow == name
            assert LoginForm(flow=name).flow.value == each.name
    assert LoginForm().flow.options == tuple((each.label, each.name) for each in GRANTS)
    assert LoginForm().flow.value == GRANTS[0].name == LoginRequest(client_id=ORG).flow  # the default


def test_an_unknown_flow_is_refused_everywhere_naming_every_grant(ip, iyo_env):
    known = " or ".join(f"{each.name} ({', '.join(each.aliases)})" for each in GRANTS)
    expected = f"unknown flow 'implicit'; use {known}"
    with pytest.raises(ConfigError, match=f"^{re.escape(expected)}$"):
        LoginRequest(client_id=ORG, flow="implicit")
    with pytest.raises(ConfigError, match="unknown flow 'implicit'"):
        LoginForm(flow="implicit")
    with pytest.raises(UsageError, match=r"unknown option or bad value \(options given: -f\)"):
        ip.run_line_magic("iyo_token", "-f implicit")
    assert "iyo_jwt" not in ip.user_ns


def test_the_help_names_every_grant_and_alias(ip):
    from IPython.core.oinspect import getdoc

    text = " ".join(getdoc(ip.magics_manager.magics["line"]["iyo_token"]).split())  # what %iyo_token? shows
    assert flow_help() in text
    for each in GRANTS:
        assert all(name in flow_help() for name in each.names)


def log_in(each, code_standins, **extra):
    """A login by ``each`` at the stand-ins; the user (where one is needed) pastes the address."""
    request = request_for(code_standins, **extra)[0].replace(flow=each.name, scopes=())
    paster = Paster()
    step = BrowserStep(show_link=paster.shown, ask_pasted=paster, paste=True)
    return login(request, ORG_SECRET, code_grant=step), paster


FACTS = "each,needs_user,direct_jwt,renews_unattended"


@pytest.mark.parametrize(FACTS, BY_NAME)
def test_needs_user_is_whether_the_login_shows_a_link(each, needs_user, direct_jwt, renews_unattended, code_standins):
    result, paster = log_in(each, code_standins)
    assert bool(paster.shown.links) == needs_user and result.jwt is not None
    request = request_for(code_standins)[0].replace(flow=each.name, scopes=())
    if needs_user:
        with pytest.raises(ConfigError, match=f"the {each.name} flow needs a browser step"):
            login(request, ORG_SECRET)
    else:
        assert login(request, ORG_SECRET).jwt is not None  # no browser step given, none needed


@pytest.mark.parametrize(FACTS, BY_NAME)
def test_direct_jwt_is_whether_jwt_only_is_one_round_trip(
    each, needs_user, direct_jwt, renews_unattended, code_standins
):
    before = dict(code_standins.iyo.hits)
    result, _ = log_in(each, code_standins, jwt_only=True)
    asked = {k: code_standins.iyo.hits[k] - before.get(k, 0) for k in ("access_token", "jwt")}
    assert result.jwt is not None
    assert asked == ({"access_token": 1, "jwt": 0} if direct_jwt else {"access_token": 1, "jwt": 1})


@pytest.mark.parametrize(FACTS, BY_NAME)
def test_renews_unattended_is_whether_the_renewal_logs_in_again(
    each, needs_user, direct_jwt, renews_unattended, code_standins, monkeypatch
):
    result, paster = log_in(each, code_standins, refreshable=False)
    links = len(paster.shown.links)
    monkeypatch.setattr(code_standins.iyo.state, "access_tokens", {})  # the server forgot the access token
    if renews_unattended:
        assert result.auth.renew().expires_at >= result.jwt.expires_at
    else:
        with pytest.raises(RefreshError, match="can no longer be renewed without the user"):
            result.auth.renew()
    assert len(paster.shown.links) == links  # never the user again
