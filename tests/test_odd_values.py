"""Odd shapes and bad values get a display or one line that names what was wrong (issue 22,
finding 5): Cockpit data of a shape the API does not give displays as a table of its fields; an
unreadable URL setting, a profiles.toml nested too deeply and a header value with a line break
are each one line naming the setting, the file or the argument, never "unexpected error"."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output
from werkzeug.wrappers import Request, Response

from iyo_magic import CockpitError, CockpitSession, LoginForm, LoginRequest, login

from .conftest import ORG, ORG_SECRET

#: (the operation, the Cockpit's answer): each a shape the Cockpit API does not give.
ODD_SHAPES = [
    ("get_job", {"key": "j1", "logs": "install failed"}),
    ("get_job", {"key": "j1", "logs": ["install failed"]}),
    ("get_job", {"key": "j1", "logs": {"epoch": 1}}),
    ("get_job", {"key": "j1", "logs": 7, "epoch": 1e30}),
    ("get_run", {"key": "r1", "steps": "1: install"}),
    ("get_run", {"key": "r1", "steps": ["install"]}),
    ("get_run", {"key": "r1", "steps": [{"number": 1, "jobs": "install"}]}),
    ("get_run", {"key": "r1", "steps": [{"number": 1, "jobs": None}, "x"], "epoch": -1}),
    ("get_run", {"key": "r1", "steps": 3, "state": None}),
    ("get_service_by_name", {"name": "web1", "data": ["os", "ubuntu"]}),
    ("get_service_by_name", {"name": "web1", "producers": "sshkey!ops"}),
    ("get_service_by_name", {"name": "web1", "actions": {"install": "ok"}}),
    ("get_service_by_name", {"name": "web1", "consumers": [None], "children": "x", "data": "x"}),
    ("get_service_by_name", {"name": "web1", "actions": [["install", "ok"]], "data": 3}),
    ("list_jobs", [{"jobid": "j1", "data": ["actor", "x"]}, "text", None, {"epoch": 1e300}]),
    ("list_runs", {"key": "r1", "epoch": "yesterday"}),
    ("get_repository", ["not", "a", "record"]),
]
#: Shapes the displays know, with None (or nothing) where a list or a dict is expected.
NONE_SHAPES = [
    ("get_job", {"key": "j1", "logs": None}, "no logs"),
    ("get_run", {"key": "r1", "steps": None, "state": "ok"}, "nothing to run"),
    ("get_run", {"key": "r1", "steps": [{"number": 1, "jobs": None}]}, "nothing to run"),
    ("get_service_by_name", {"name": "web1", "data": None, "actions": None, "producers": None}, "iyo-service"),
]
ARGUMENTS = {
    "get_job": ("r", "j1"),
    "get_run": ("r", "r1"),
    "get_service_by_name": ("r", "node", "web1"),
    "list_jobs": ("r",),
    "list_runs": ("r",),
    "get_repository": ("r",),
}


class OddCockpit:
    """A Cockpit (under /api) whose every answer is ``answer``, as JSON."""

    answer: object = {}

    def __call__(self, environ, start_response):
        Request(environ)
        return Response(json.dumps(self.answer), content_type="application/json")(environ, start_response)


@pytest.fixture()
def odd(iyo_env, serve_app, ip):
    cockpit = OddCockpit()
    request = LoginRequest(client_id=ORG, base_url=iyo_env.iyo_url, audiences=(ORG,), public_key=iyo_env.key.public_pem)
    session = CockpitSession(serve_app(cockpit) + "/api", login(request, ORG_SECRET).auth)
    return cockpit, session


def shown(ip, value) -> dict:
    """What a notebook shows of ``value`` (text and HTML), and what the display printed."""
    with capture_output() as captured:
        data, _ = ip.display_formatter.format(value)
    assert captured.stdout + captured.stderr == "", captured.stdout + captured.stderr
    return data


@pytest.mark.parametrize(("operation", "answer"), ODD_SHAPES)
def test_an_odd_shape_displays_as_a_table_of_its_fields(ip, odd, operation, answer):
    cockpit, session = odd
    cockpit.answer = answer
    result = getattr(session, operation)(*ARGUMENTS[operation])
    data = shown(ip, result)
    assert "text/plain" in data and "<table class='iyo-table'>" in data["text/html"]
    if isinstance(answer, dict):
        for field in answer:
            assert f"<td style='text-align:left'>{field}</td>" in data["text/html"]


@pytest.mark.parametrize(("operation", "answer", "says"), NONE_SHAPES)
def test_none_where_a_list_is_expected_is_nothing_to_show(ip, odd, operation, answer, says):
    cockpit, session = odd
    cockpit.answer = answer
    assert says in shown(ip, getattr(session, operation)(*ARGUMENTS[operation]))["text/html"]


# -- settings, files and arguments that cannot be used: one line that names them ----------------
@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("--base-url http://[::1", "base URL is not a valid URL: its [ and ] do not match"),
        ("--base-url http://127.0.0.1:99999", "base URL is not a valid URL: its port is not a number"),
        ("--base-url https://[itsyou.online]/", "base URL is not a valid URL: its host in [ ] is not an IP"),
        ("--cockpit http://[::1/api", "Cockpit URL is not a valid URL: its [ and ] do not match"),
        ("--cockpit http://127.0.0.1:port/api", "Cockpit URL is not a valid URL: its port is not a number"),
        ("-f code --redirect-uri http://[::1/cb", "redirect URI is not a valid URL: its [ and ] do not match"),
    ],
)
def test_an_unreadable_url_on_the_line_is_one_line_naming_the_setting(ip, iyo_env, line, names):
    with pytest.raises(UsageError) as refused:
        ip.run_line_magic("iyo_token", f"--fresh --aud {ORG} {line}")
    assert names in str(refused.value) and "\n" not in str(refused.value)
    assert "unexpected error" not in str(refused.value)


def test_an_unreadable_url_in_config_names_the_setting(ip, iyo_env):
    ip.run_line_magic("config", "IyoMagics.cockpit_url = 'http://[::1'")
    with pytest.raises(UsageError, match=r"Cockpit URL is not a valid URL: its \[ and \] do not match$"):
        ip.run_line_magic("iyo_token", f"--fresh --aud {ORG}")
    ip.run_line_magic("config", "IyoMagics.base_url = 'http://127.0.0.1:99999'")
    with pytest.raises(UsageError, match=r"base URL is not a valid URL: its port is not a number"):
        ip.run_line_magic("iyo_token", f"--fresh --aud {ORG} --cockpit {iyo_env.cockpit_url}")


def test_an_unreadable_url_in_the_form_is_one_line(ip, iyo_env):
    form = LoginForm(base_url="http://[::1")
    form.button.click()
    form.wait()
    assert "iyo-error" in form.message.value and "base URL is not a valid URL" in form.message.value
    assert "unexpected error" not in form.message.value


def test_an_unreadable_address_given_to_iyo_cockpit_is_one_line(odd):
    _, session = odd
    with pytest.raises(Exception, match=r"^the address given to iyo_cockpit is not a valid URL: its \[ and \]"):
        session.get("http://[::1/api/ays/repository")


@pytest.mark.parametrize("nested", ["a = " + "[" * 5000 + "]" * 5000, "a = " + "{b = " * 3000 + "1" + "}" * 3000])
def test_a_profiles_file_nested_too_deeply_is_one_line_naming_the_file(ip, iyo_env, nested):
    path = Path(os.environ["IYO_CONFIG_DIR"]) / "profiles.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nested + "\n[staging]\nclient_id = 'x'\n")
    with pytest.raises(UsageError) as refused:
        ip.run_line_magic("iyo_token", "-p staging")
    assert str(refused.value).endswith(f"{path} is nested too deeply to be read as TOML")
    assert "RecursionError" not in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("event", ["push\r\nX-Injected: 1", "push\nX", "push\r", " push", "push\x00", "pu\x7fsh"])
def test_a_header_value_with_a_line_break_is_refused_naming_the_argument(iyo_env, event):
    request = LoginRequest(
        client_id=ORG,
        base_url=iyo_env.iyo_url,
        audiences=(ORG,),
        cockpit_url=iyo_env.cockpit_url,
        public_key=iyo_env.key.public_pem,
    )
    session = login(request, ORG_SECRET).cockpit
    seen: list[int] = []
    session.hooks["response"].append(lambda response, *args, **kwargs: seen.append(response.status_code))
    with pytest.raises(CockpitError, match=r"^github_webhook: event may not hold a line break") as refused:
        session.github_webhook({}, event=event)
    assert "\n" not in str(refused.value) and "InvalidHeader" not in str(refused.value)
    with pytest.raises(CockpitError, match=r"not sent: a header or the JSON body is not valid \(InvalidHeader\)$"):
        session.post("/webhooks/github", json={}, headers={"X-GitHub-Event": "push\r\nX-Injected: 1"})
    assert seen == []
    assert session.github_webhook({}, event="pull_request") == {"msg": "github pull_request event received"}
