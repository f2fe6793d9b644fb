"""The Cockpit client and the Cockpit stand-in, checked from one list of the API's 35 named
operations and its two webhooks (../shared/cockpit-api.md, from ays9's RAML spec): the client has a
method for each with the spec's parameters, and the stand-in answers each with the documented
success code and a body of the documented type (as ays9's server sends it), over real HTTP."""

from __future__ import annotations

import inspect
import io
import re

import pytest

from iyo_magic import CockpitError, CockpitSession, LoginRequest, login

from .conftest import ORG, ORG_SECRET

REPO = "/ays/repository/{repository}"
#: (displayName, method, path, the spec's parameters: path, query and body, success, body type).
#: The two webhooks have no displayName in the spec; their names are ours.
OPERATIONS = [
    ("reload", "POST", "/ays/reload", [], 200, dict),
    ("addTemplateRepo", "POST", "/ays/template_repo", ["url", "branch"], 201, dict),
    ("listAYSTemplates", "GET", "/ays/templates", [], 200, list),
    ("getAYSTemplate", "GET", "/ays/templates/{name}", ["name"], 200, dict),
    ("listRepositories", "GET", "/ays/repository", [], 200, list),
    ("createRepository", "POST", "/ays/repository", ["name", "git_url"], 201, dict),
    ("getRepository", "GET", REPO, ["repository"], 200, dict),
    ("deleteRepository", "DELETE", REPO, ["repository"], 204, None),
    ("destroyRepository", "POST", f"{REPO}/destroy", ["repository"], 204, None),
    ("listBlueprints", "GET", f"{REPO}/blueprint", ["repository", "archived"], 200, list),
    ("createBlueprint", "POST", f"{REPO}/blueprint", ["repository", "name", "content"], 201, dict),
    ("getBlueprint", "GET", f"{REPO}/blueprint/{{blueprint}}", ["repository", "blueprint"], 200, dict),
    ("executeBlueprint", "POST", f"{REPO}/blueprint/{{blueprint}}", ["repository", "blueprint", "message"], 200, dict),
    (
        "updateBlueprint",
        "PUT",
        f"{REPO}/blueprint/{{blueprint}}",
        ["repository", "blueprint", "name", "content"],
        200,
        dict,
    ),
    ("deleteBlueprint", "DELETE", f"{REPO}/blueprint/{{blueprint}}", ["repository", "blueprint"], 204, None),
    ("archiveBlueprint", "PUT", f"{REPO}/blueprint/{{blueprint}}/archive", ["repository", "blueprint"], 200, dict),
    ("restoreBlueprint", "PUT", f"{REPO}/blueprint/{{blueprint}}/restore", ["repository", "blueprint"], 200, dict),
    ("listServices", "GET", f"{REPO}/service", ["repository", "actor", "role", "service"], 200, list),
    (
        "listServicesByRole",
        "GET",
        f"{REPO}/service/{{role}}",
        ["repository", "role", "parent", "consume", "fields"],
        200,
        list,
    ),
    ("getServiceByName", "GET", f"{REPO}/service/{{role}}/{{name}}", ["repository", "role", "name"], 200, dict),
    ("deleteServiceByName", "DELETE", f"{REPO}/service/{{role}}/{{name}}", ["repository", "role", "name"], 204, None),
    ("listActors", "GET", f"{REPO}/actor", ["repository"], 200, list),
    ("getActorByName", "GET", f"{REPO}/actor/{{actor}}", ["repository", "actor"], 200, dict),
    ("updateActor", "PUT", f"{REPO}/actor/{{actor}}", ["repository", "actor"], 200, dict),
    ("listTemplates", "GET", f"{REPO}/template", ["repository"], 200, list),
    ("getTemplate", "GET", f"{REPO}/template/{{name}}", ["repository", "name"], 200, dict),
    ("updateTemplates", "GET", f"{REPO}/template/update", ["repository"], 200, dict),
    ("listRuns", "GET", f"{REPO}/aysrun", ["repository"], 200, list),
    ("createRun", "POST", f"{REPO}/aysrun", ["repository", "simulate", "callback_url"], 200, dict),
    ("getRun", "GET", f"{REPO}/aysrun/{{runid}}", ["repository", "runid"], 200, dict),
    ("executeRun", "POST", f"{REPO}/aysrun/{{runid}}", ["repository", "runid"], 200, dict),
    ("deleteRun", "DELETE", f"{REPO}/aysrun/{{runid}}", ["repository", "runid"], 204, None),
    (
        "configure-jslocation",
        "POST",
        f"{REPO}/configure-jslocation",
        ["repository", "jslocation", "instance", "data"],
        201,
        dict,
    ),
    (
        "listJobs",
        "GET",
        f"{REPO}/job",
        ["repository", "actor", "service", "action", "state", "serviceKey", "fromEpoch", "toEpoch", "tags", "fields"],
        200,
        list,
    ),
    ("getJob", "GET", f"{REPO}/job/{{jobid}}", ["repository", "jobid"], 200, dict),
    ("githubWebhook", "POST", "/webhooks/github", ["payload", "event"], 200, dict),
    ("sendEvent", "POST", "/webhooks/events", ["command", "tags", "payload"], 200, dict),
]


WEBHOOKS = ("githubWebhook", "sendEvent")


def python_name(display_name: str) -> str:
    """The spec's displayName in Python style: listAYSTemplates -> list_ays_templates,
    configure-jslocation -> configure_jslocation."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", display_name).lower().replace("-", "_")


BLUEPRINT = "sshkey__k:\n  key: ops\nnode.ovc__vm1:\n  os: ubuntu.18.04\n  sshkey: k\n"
#: The arguments of each call, in an order in which every one can succeed; a callable gets what
#: earlier calls returned.
CALLS = {
    "reload": {},
    "add_template_repo": {"url": "https://git.example.org/templates"},
    "list_ays_templates": {},
    "get_ays_template": {"name": "node.ovc"},
    "list_repositories": {},
    "create_repository": {"name": "table", "git_url": "https://git.example.org/table"},
    "get_repository": {"repository": "table"},
    "list_blueprints": {"repository": "table", "archived": False},
    "create_blueprint": {"repository": "table", "name": "bp.yaml", "content": BLUEPRINT},
    "get_blueprint": {"repository": "table", "blueprint": "bp.yaml"},
    "update_blueprint": {"repository": "table", "blueprint": "bp.yaml", "name": "bp.yaml", "content": BLUEPRINT},
    "execute_blueprint": {"repository": "table", "blueprint": "bp.yaml", "message": "first"},
    "archive_blueprint": {"repository": "table", "blueprint": "bp.yaml"},
    "restore_blueprint": {"repository": "table", "blueprint": "bp.yaml"},
    "list_services": {"repository": "table", "role": "node"},
    "list_services_by_role": {"repository": "table", "role": "node", "fields": ["os"]},
    "get_service_by_name": {"repository": "table", "role": "node", "name": "vm1"},
    "list_actors": {"repository": "table"},
    "get_actor_by_name": {"repository": "table", "actor": "node.ovc"},
    "update_actor": {"repository": "table", "actor": "node.ovc"},
    "list_templates": {"repository": "table"},
    "get_template": {"repository": "table", "name": "sshkey"},
    "update_templates": {"repository": "table"},
    "configure_jslocation": {
        "repository": "table",
        "jslocation": "j.clients.openvcloud",
        "instance": "main",
        "data": {"address": "ovc.example.org"},
    },
    "create_run": {"repository": "table"},
    "list_runs": {"repository": "table"},
    "get_run": lambda got: {"repository": "table", "runid": got["create_run"]["key"]},
    "execute_run": lambda got: {"repository": "table", "runid": got["create_run"]["key"]},
    "list_jobs": {"repository": "table", "state": "ok", "action": "install"},
    "get_job": lambda got: {"repository": "table", "jobid": got["list_jobs"][0]["jobid"]},
    "delete_run": lambda got: {"repository": "table", "runid": got["create_run"]["key"]},
    "delete_service_by_name": {"repository": "table", "role": "node", "name": "vm1"},
    "delete_blueprint": {"repository": "table", "blueprint": "bp.yaml"},
    "github_webhook": {"payload": {"ref": "refs/heads/master"}},
    "send_event": {"command": "deploy", "tags": ["web"], "payload": {"version": 2}},
    "destroy_repository": {"repository": "table"},
    "delete_repository": {"repository": "table"},
}


@pytest.fixture(scope="module")
def cockpit(standins) -> CockpitSession:
    request = LoginRequest(
        client_id=ORG,
        base_url=standins.iyo_url,
        audiences=(ORG,),
        cockpit_url=standins.cockpit_url,
        public_key=standins.key.public_pem,
    )
    return login(request, ORG_SECRET).cockpit


def test_one_list_of_35_operations_and_the_two_webhooks():
    named = [op for op in OPERATIONS if op[0] not in WEBHOOKS]
    assert len(named) == 35 and len({python_name(op[0]) for op in OPERATIONS}) == 37
    assert set(CALLS) == {python_name(op[0]) for op in OPERATIONS}


def test_the_client_has_no_operation_the_list_lacks():
    from iyo_magic.cockpit.operations import CockpitOperations

    methods = {name for name, f in vars(CockpitOperations).items() if hasattr(f, "cockpit_operation")}
    assert methods == {python_name(op[0]) for op in OPERATIONS}


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op[0] for op in OPERATIONS])
def test_the_client_has_a_documented_method_for_each_operation(operation):
    display_name, method, path, parameters, _, _ = operation
    function = getattr(CockpitSession, python_name(display_name))
    assert function.cockpit_operation == (method, path)
    # Keyword-only parameters (wait, timeout) are the client's own: they are not sent.
    sent = [n for n, p in inspect.signature(function).parameters.items() if n != "self" and p.kind != p.KEYWORD_ONLY]
    assert sent == parameters
    body = inspect.cleandoc(function.__doc__).partition("\n")[2]  # as indented on 3.9, as dedented since 3.13
    for parameter in parameters:
        assert re.search(rf"^[ \t]*{parameter}\s", body, re.M), f"{parameter} is not documented"


def test_the_standin_answers_each_operation_as_documented(cockpit):
    statuses: list[int] = []
    cockpit.hooks["response"].append(lambda response, *args, **kwargs: statuses.append(response.status_code))
    expected = {python_name(op[0]): (op[4], op[5]) for op in OPERATIONS}
    got: dict = {}
    try:
        for name, arguments in CALLS.items():
            arguments = arguments(got) if callable(arguments) else arguments
            got[name] = getattr(cockpit, name)(**arguments)
            code, kind = expected[name]
            assert statuses[-1] == code, f"{name}: {statuses[-1]}"
            assert (got[name] is None) if kind is None else isinstance(got[name], kind), f"{name}: {got[name]!r}"
    finally:
        cockpit.hooks["response"].clear()
    assert got["execute_run"]["state"] == "ok" and got["get_job"]["logs"]
    assert got["list_services_by_role"] == [{"role": "node", "name": "vm1", "data": {"os": "ubuntu.18.04"}}]
    assert got["execute_blueprint"]["services"] == ["node!vm1", "sshkey!k"]
    assert got["update_templates"] == {"message": "Templates Updated"}
    assert got["configure_jslocation"] == {"message": "Instance configured"}
    actions = {action["name"]: action for action in got["get_actor_by_name"]["actions"]}
    assert actions["monitor"] == {
        "name": "monitor",
        "code": actions["monitor"]["code"],
        "state": "new",
        "recurring": {"period": 300},
    }
    assert all(set(a) == {"name", "code", "state", "recurring"} for a in got["update_actor"]["actions"])
    assert len(statuses) == 37


def test_one_repository_without_repeating_its_name(cockpit):
    production = cockpit.repository("production")
    assert "repository" not in inspect.signature(production.list_jobs).parameters
    failed = production.list_jobs(state="error")
    assert [(job["data"]["service"], job["data"]["action"]) for job in failed] == [("web2", "install")]
    log = production.get_job(failed[0]["jobid"])["logs"][-1]
    assert log["log"].startswith("Error: image windows.2012 is not available") and log["epoch"] > 0


def test_services_filter_by_actor_name_parent_and_what_they_consume(cockpit):
    production = cockpit.repository("production")
    assert production.list_services(actor="node.ovc") == [{"role": "node", "name": n} for n in ("web1", "web2")]
    assert production.list_services(service="shop") == [{"role": "app", "name": "shop"}]
    assert [s["name"] for s in production.list_services_by_role("app", consume="web1")] == ["shop"]
    assert production.list_services_by_role("app", consume="node!web2") == []
    assert production.list_services_by_role("node", parent="nobody") == []


def test_a_run_is_a_simulation_unless_asked_and_moves_from_new_to_ok_or_error(cockpit):
    cockpit.create_repository("runs", "https://git.example.org/runs")
    try:
        runs = cockpit.repository("runs")
        runs.create_blueprint("a.yaml", "sshkey__k:\n  key: x\nnode.ovc__good:\n  os: ubuntu.16.04\n  sshkey: k\n")
        runs.execute_blueprint("a.yaml")
        simulated = runs.create_run()
        assert simulated["state"] == "new" and [s["number"] for s in simulated["steps"]] == [1, 2]
        assert "a simulation: nothing was executed" in simulated._repr_html_()
        assert runs.get_service_by_name("node", "good")["state"] == "new"  # nothing ran
        done = runs.execute_run(simulated["key"])
        assert done["state"] == "ok" and all(j["state"] == "ok" for s in done["steps"] for j in s["jobs"])
        with pytest.raises(CockpitError, match=r"only a new run can be executed \(code 409\)$"):
            runs.execute_run(simulated["key"])
        runs.create_blueprint("b.yaml", "node.ovc__bad:\n  os: windows.2019\n  sshkey: k\n")
        runs.execute_blueprint("b.yaml")
        failed = runs.create_run(simulate=False)
        assert failed["state"] == "error" and failed["epoch"] > 0
        assert runs.get_service_by_name("node", "bad")["state"] == "error"
        since = failed["epoch"]
        assert [j["data"]["service"] for j in runs.list_jobs(state="error", fromEpoch=since)] == ["bad"]
        assert runs.list_jobs(state="error", toEpoch=since - 3600) == []
    finally:
        cockpit.delete_repository("runs")


def test_the_two_operations_the_first_table_missed(cockpit):
    """updateTemplates is routed before getTemplate's {name}; configure-jslocation wants a j. location."""
    production = cockpit.repository("production")
    assert production.update_templates() == {"message": "Templates Updated"}
    assert production.get_template("sshkey")["name"] == "sshkey"
    with pytest.raises(CockpitError, match=r"repository nope not found \(code 404\)$"):
        cockpit.update_templates("nope")
    assert production.configure_jslocation("j.clients.github", "ops") == {"message": "Instance configured"}
    with pytest.raises(CockpitError, match=r"configure-jslocation: Invalid location \(code 400\)$"):
        production.configure_jslocation("clients.github", "ops", {"token": "x"})
    with pytest.raises(CockpitError, match=r"^configure_jslocation: repository may not be '\.\.'"):
        cockpit.configure_jslocation("..", "j.clients.github", "ops")


def test_a_repository_without_a_git_url_is_a_repository(cockpit):
    """ays9 validates createRepository with a JSON schema, where "" is a string."""
    try:
        assert cockpit.create_repository("local", "") == {
            "name": "local",
            "git_url": "",
            "path": "/optvar/cockpit_repos/local",
        }
    finally:
        cockpit.delete_repository("local")
    with pytest.raises(CockpitError, match=r"name and git_url are required"):
        cockpit.post("/ays/repository", json={"name": "local"})


def test_errors_are_the_cockpits_code_and_error_in_one_line(cockpit):
    with pytest.raises(CockpitError) as error:
        cockpit.get_repository("nope")
    assert (
        str(error.value) == "Cockpit answered 404 to GET /api/ays/repository/nope: repository nope not found (code 404)"
    )
    with pytest.raises(CockpitError, match=r"fromEpoch must be a whole number \(an epoch\) \(code 400\)$"):
        cockpit.list_jobs("production", fromEpoch="yesterday")


def test_a_session_whose_auth_a_user_replaced_sends_that_auth_and_fails_clearly(cockpit):
    """A requests session's .auth is its user's to replace: the session then sends that, and
    neither its repr nor its 401 message assume an IyoAuth any more."""
    session = CockpitSession(cockpit.base_url, cockpit.auth)
    jwt = cockpit.auth.jwt

    def bearer(request):  # what a user may write instead of iyo_auth: the header by hand
        request.headers["Authorization"] = f"bearer {jwt}"
        return request

    session.auth = bearer
    assert session.list_repositories()[0]["name"] == "production"
    assert repr(session) == f"<CockpitSession {cockpit.base_url} with function auth, not iyo_auth>"
    session.auth = ("ops", "a-password")  # basic auth: refused, and its password never shown
    assert repr(session) == f"<CockpitSession {cockpit.base_url} with tuple auth, not iyo_auth>"
    with pytest.raises(CockpitError) as error:
        session.list_repositories()
    assert str(error.value) == (
        "Cockpit answered 401 to GET /api/ays/repository 'Your JWT is invalid': it wants globalid=ORG "
        "(an organization JWT) or scope user:memberof:ORG (a user JWT, --scope user:memberof:ORG); this "
        "session's .auth was replaced, so its JWT is unknown here: set .auth = iyo_auth"
    )
    assert "a-password" not in repr(error.value) + repr(session)
    session.auth = None
    assert repr(session) == f"<CockpitSession {cockpit.base_url} with no auth>"
    with pytest.raises(CockpitError, match=r"'Not JWT token': no JWT was sent; pass auth=iyo_auth"):
        session.list_repositories()


def test_an_error_answer_to_a_streamed_body_is_a_cockpit_error(cockpit):
    """The message leaves out what a form sent; a body from a file is no form and stays unread."""
    with pytest.raises(CockpitError, match=r"^Cockpit answered 400 to POST /api/ays/repository: name and git_url"):
        cockpit.post("/ays/repository", data=io.BytesIO(b'{"name": ""}'), headers={"Content-Type": "application/json"})


def test_ays9_also_accepts_azp_and_g8cockpit_does_not(standins):
    import requests

    from iyo_magic.server import Accounts, StandIns

    from .test_cockpit_server import sign

    token = sign(standins, globalid=None, azp=ORG, scope=["user:memberof:other"])
    assert requests.get(
        standins.cockpit_url + "/ays/repository", headers={"Authorization": f"bearer {token}"}
    ).text == ("Unauthorized")
    with StandIns(Accounts.demo(), state_dir=standins.state_dir, cockpit_rules="ays9") as ays9:
        answer = requests.get(ays9.cockpit_url + "/ays/repository", headers={"Authorization": f"bearer {token}"})
        assert answer.status_code == 200 and answer.json()[0]["name"] == "production"
        # and the jwt cookie, as the Cockpits read it first
        assert requests.get(ays9.cockpit_url + "/ays/repository", cookies={"jwt": f"bearer {token}"}).status_code == 200
