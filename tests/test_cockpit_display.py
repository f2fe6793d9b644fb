"""`iyo_cockpit` in a notebook: its operations complete with IPython's completer, `?` names their
parameters, and lists, runs, jobs and services display as HTML with no token or secret in it."""

from __future__ import annotations

import json

import pytest
from IPython.core.completer import provisionalcompleter

from iyo_magic.cockpit.results import Job, Record, Run, Service, Table

from .conftest import ALL_SECRETS
from .test_cockpit_api import OPERATIONS, python_name


@pytest.fixture()
def logged_in(ip, iyo_env):
    ip.run_line_magic("iyo_token", f"--aud {iyo_env.organization}")
    return ip


def completions(ip, text: str) -> set[str]:
    """What Tab offers after ``text``: IPython's own completer, which reads attributes with
    ``dir()`` and never evaluates ``__getattr__`` (jedi is left out: it would load into the test
    process and slow every test after it)."""
    jedi = ip.Completer.use_jedi
    ip.Completer.use_jedi = False
    try:
        with provisionalcompleter():
            return {item.text.rsplit(".", 1)[-1] for item in ip.Completer.completions(text, len(text))}
    finally:
        ip.Completer.use_jedi = jedi


def test_iyo_cockpit_completes_to_the_operations(logged_in):
    names = {python_name(op[0]) for op in OPERATIONS}
    assert names <= completions(logged_in, "iyo_cockpit."), names - completions(logged_in, "iyo_cockpit.")
    assert {"list_jobs"} <= completions(logged_in, "iyo_cockpit.list_j")
    logged_in.run_cell('production = iyo_cockpit.repository("production")')
    repository_operations = {python_name(op[0]) for op in OPERATIONS if "{repository}" in op[2]}
    assert repository_operations <= completions(logged_in, "production.")


def test_question_mark_names_the_parameters(logged_in):
    info = logged_in.object_inspect("iyo_cockpit.list_jobs")
    assert info["found"]
    for name in ("repository", "state", "fromEpoch", "toEpoch", "serviceKey", "fields"):
        assert name in info["docstring"] and name in info["definition"]
    info = logged_in.object_inspect("iyo_cockpit.create_run")
    assert "SIMULATION by default" in info["docstring"] and "simulate: 'bool' = True" in info["definition"]


def test_lists_runs_jobs_and_services_display_as_html_without_tokens(logged_in):
    cockpit = logged_in.user_ns["iyo_cockpit"]
    production = cockpit.repository("production")
    failed = production.list_jobs(state="error")
    shown = {
        "repositories": cockpit.list_repositories(),
        "jobs": failed,
        "job": production.get_job(failed[0]["jobid"]),
        "run": production.get_run(production.list_runs()[0]["key"]),
        "service": production.get_service_by_name("node", "web2"),
        "template": cockpit.get_ays_template("node.ovc"),
    }
    kinds = {"repositories": Table, "jobs": Table, "job": Job, "run": Run, "service": Service, "template": Record}
    assert all(type(shown[name]) is kind for name, kind in kinds.items())
    html = {name: value._repr_html_() for name, value in shown.items()}
    assert "<th style='text-align:left'>jobid</th>" in html["jobs"] and ">install<" in html["jobs"]  # data as columns
    assert "Error: image windows.2012 is not available" in html["job"] and "UTC" in html["job"]
    assert html["run"].count("<tr>") == 1 + 4 and ">error</span>" in html["run"]  # 4 jobs in 2 steps, then it failed
    assert "producers" in html["service"] and "sshkey!ops" in html["service"]
    # The data stays plain Python: it goes to JSON and compares to lists and dicts as is.
    assert json.loads(json.dumps(failed)) == failed and isinstance(shown["job"], dict)
    forbidden = ALL_SECRETS + [
        logged_in.user_ns["iyo_jwt"].reveal(),
        logged_in.user_ns["iyo_access_token"].reveal(),
        *(t for t in logged_in.user_ns["iyo_jwt"].claims.values() if isinstance(t, str) and len(t) > 20),
    ]
    for name, text in html.items():
        assert not [value for value in forbidden if value and value in text], name
        assert "eyJ" not in text, name


def test_displays_escape_what_the_cockpit_sends(logged_in):
    cockpit = logged_in.user_ns["iyo_cockpit"]
    cockpit.create_repository("<b>x", git_url="<script>alert(1)</script>")
    try:
        html = cockpit.list_repositories()._repr_html_()
        assert "<script>" not in html and "&lt;script&gt;" in html and "<b>x" not in html
    finally:
        cockpit.delete_repository("<b>x")


def test_to_frame_gives_a_dataframe_of_the_rows(logged_in):
    pandas = pytest.importorskip("pandas")  # a test dependency; not one of the package
    jobs = logged_in.user_ns["iyo_cockpit"].list_jobs("production")
    frame = jobs.to_frame()
    assert isinstance(frame, pandas.DataFrame) and len(frame) == len(jobs)
    assert {"jobid", "state", "actor", "service", "action", "epoch"} <= set(frame.columns)
    assert frame[frame.state == "error"].service.tolist() == ["web2"]


def test_a_long_list_shows_its_first_rows_and_says_so():
    jobs = Table({"jobid": str(n), "state": "ok"} for n in range(250))
    html = jobs._repr_html_()
    assert html.count("<tr>") == 1 + 100 and "the first 100 of 250 rows; all are in the list" in html
    assert len(jobs) == 250
