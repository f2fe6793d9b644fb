"""Dot segments cannot move a Cockpit call to another endpoint (issue 22, finding 1): an
operation's path argument that is empty, ``.`` or ``..`` (also percent-encoded) is refused before
anything is sent, and so is a name of that kind at the stand-in; a raw path is resolved before
it is checked, and one that leaves the Cockpit's base path gets no request (and no JWT)."""

from __future__ import annotations

import contextlib
import inspect

import pytest
import requests
from werkzeug.wrappers import Request, Response

from iyo_magic import CockpitError, CockpitSession, LoginRequest, login

from .conftest import ORG, ORG_SECRET
from .test_cockpit_api import OPERATIONS, python_name
from .test_cockpit_server import sign

#: Names that are another path once a server (or a proxy, or urllib3) has read them.
DOT_NAMES = ["..", ".", "", "%2e%2E", "%2E", ".%2e", "%252e%252e", "%25252E", "%2e.", "x/../..", "..%2F..", "/2"]


@pytest.fixture()
def cockpit(iyo_env) -> CockpitSession:
    request = LoginRequest(
        client_id=ORG,
        base_url=iyo_env.iyo_url,
        audiences=(ORG,),
        cockpit_url=iyo_env.cockpit_url,
        public_key=iyo_env.key.public_pem,
    )
    return login(request, ORG_SECRET).cockpit


@pytest.fixture()
def victim(cockpit):
    """A repository with a blueprint and a run, deleted after the test."""
    cockpit.create_repository("victim", "https://git.example.org/victim")
    cockpit.create_blueprint("victim", "bp.yaml", "sshkey__k:\n  key: ops\n")
    yield "victim"
    with contextlib.suppress(CockpitError):  # gone already when a test failed
        cockpit.delete_repository("victim")


def sent(session: requests.Session) -> list[str]:
    """The requests ``session`` sends from now on, as ``METHOD path``."""
    seen: list[str] = []
    session.hooks["response"].append(lambda r, *a, **k: seen.append(f"{r.request.method} {r.request.path_url}"))
    return seen


@pytest.mark.parametrize("runid", DOT_NAMES)
def test_delete_run_with_a_dot_name_sends_nothing_and_names_the_argument(cockpit, victim, runid):
    seen = sent(cockpit)
    with pytest.raises(CockpitError) as refused:
        cockpit.delete_run(victim, runid)
    assert str(refused.value).startswith(f"delete_run: runid may not be {runid!r}")
    assert "\n" not in str(refused.value)
    with pytest.raises(CockpitError, match=r"^delete_run: runid may not be"):
        cockpit.repository(victim).delete_run(runid)
    assert seen == []
    assert cockpit.get_repository(victim)["name"] == victim  # the repository is still there


def test_every_path_argument_of_every_operation_is_checked(cockpit):
    seen = sent(cockpit)
    for display_name, _, path, parameters, _, _ in OPERATIONS:
        name = python_name(display_name)
        signature = inspect.signature(getattr(CockpitSession, name))
        required = [p for p in parameters if signature.parameters[p].default is inspect.Parameter.empty]
        for argument in (p for p in parameters if "{" + p + "}" in path):
            for value in ("..", "%2e%2e"):
                arguments = {p: "ok" for p in required} | {argument: value}
                with pytest.raises(CockpitError, match=rf"^{name}: {argument} may not be {value!r}"):
                    getattr(cockpit, name)(**arguments)
    assert seen == []


def test_a_clean_up_loop_cannot_delete_the_repository(cockpit, victim):
    """A blueprint named '..' is refused by the stand-in; the usual loop then deletes blueprints only."""
    for name in ("..", "%2e%2e", "."):
        with pytest.raises(CockpitError, match=r"400 .*a blueprint may not be named"):
            cockpit.create_blueprint(victim, name, "sshkey__k:\n  key: ops\n")
    for blueprint in cockpit.list_blueprints(victim):
        cockpit.delete_blueprint(victim, blueprint["name"])
    assert cockpit.get_repository(victim)["name"] == victim
    assert cockpit.list_blueprints(victim) == []


def test_the_standin_refuses_dot_names_with_a_400(iyo_env, cockpit, victim):
    api = iyo_env.cockpit_url
    raw = requests.Session()
    raw.headers["Authorization"] = "bearer " + sign(iyo_env)
    for name in ("..", ".", "%2e%2E", "%252e"):
        created = raw.post(f"{api}/ays/repository", json={"name": name, "git_url": "g"})
        assert (created.status_code, created.json()["code"]) == (400, 400), name
        assert "a repository may not be named" in created.json()["error"]
        blueprint = raw.post(f"{api}/ays/repository/{victim}/blueprint", json={"name": name, "content": "a: 1"})
        assert blueprint.status_code == 400 and "a blueprint may not be named" in blueprint.json()["error"]
        services = f"node.ovc__ok:\n  os: x\nsshkey__{name}:\n  key: k\n"
        blueprint = raw.post(f"{api}/ays/repository/{victim}/blueprint", json={"name": "s.yaml", "content": services})
        assert blueprint.status_code == 400 and "a service may not be named" in blueprint.json()["error"]
    for encoded in ("%2e%2e", "%2E", "%252e%252e"):  # what reaches the server as '..' or '.'
        for path in (f"aysrun/{encoded}", f"blueprint/{encoded}", f"service/{encoded}/{encoded}", f"job/{encoded}"):
            answer = raw.delete(f"{api}/ays/repository/{victim}/{path}")
            assert answer.status_code in (400, 405) and answer.json()["code"] == answer.status_code, path
        assert raw.get(f"{api}/ays/repository/{encoded}").status_code == 400
    assert cockpit.get_repository(victim)["name"] == victim
    assert [b["name"] for b in cockpit.list_blueprints(victim)] == ["bp.yaml"]


def test_the_standin_reads_a_trailing_slash_as_sanic_does(iyo_env, cockpit, victim):
    """What made '..' dangerous: ``/repository/victim/`` is the repository itself."""
    raw = requests.Session()
    raw.headers["Authorization"] = "bearer " + sign(iyo_env)
    assert raw.get(f"{iyo_env.cockpit_url}/ays/repository/{victim}/").json()["name"] == victim


class SameHost:
    """The Cockpit under /api, and another application on the same host that records what
    reaches it (with the Authorization it got); /api/jump redirects to it."""

    def __init__(self, cockpit_app):
        self.cockpit_app = cockpit_app
        self.outside: list[tuple[str, str | None]] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path == "/api/jump":
            return Response("", 302, headers={"Location": "/outside"})(environ, start_response)
        if request.path.startswith("/api/"):
            return self.cockpit_app(environ, start_response)
        self.outside.append((request.path, request.headers.get("Authorization")))
        return Response("another application", 200)(environ, start_response)


LEAVING = [
    "/../../outside",
    "../outside",
    "/ays/../../outside",
    "/%2e%2e/outside",
    "/%2E%2e/%2e%2e/outside",
    "/%252e%252e/outside",
    "/.%2e/outside",
    "/ays/..%2F..%2Foutside",
    "/ays/%2e%2e%2f%2e%2e%2foutside",
    "/..%5Coutside",
]


@pytest.fixture()
def same_host(iyo_env, cockpit, serve_app):
    host = SameHost(iyo_env.cockpit)
    url = serve_app(host)
    return host, url, CockpitSession(url + "/api", cockpit.auth)


@pytest.mark.parametrize("path", LEAVING)
def test_a_raw_path_that_leaves_the_base_path_is_refused_without_a_request(same_host, path):
    host, url, session = same_host
    for given in (path, f"{url}/api/{path.lstrip('/')}"):
        with pytest.raises(CockpitError, match=r"^iyo_cockpit calls only the Cockpit at .*/api: give a path"):
            session.get(given)
    assert host.outside == []


def test_a_raw_path_with_dot_segments_inside_the_base_path_is_resolved_and_sent(same_host):
    host, url, session = same_host
    seen = sent(session)
    for path in ("/ays/repository/x/../../repository", "/ays/./%2e/repository", f"{url}/api/ays/%2E%2E/ays/repository"):
        assert session.get(path).json()[0]["name"] == "production"
    assert seen == ["GET /api/ays/repository"] * 3
    assert host.outside == []


def test_a_redirect_out_of_the_base_path_gets_no_jwt(same_host):
    host, _, session = same_host
    assert session.get("/jump").text == "another application"
    assert host.outside == [("/outside", None)]
