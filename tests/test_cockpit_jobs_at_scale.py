"""A Cockpit that has run for a year: ``StandIns(jobs=N)`` and ``iyo-magic serve --jobs N`` give
the production repository a fleet and N historical jobs, the same each time; the client lists,
tabulates and draws them."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

import pytest
import requests

from iyo_magic import LoginRequest, login
from iyo_magic.server import StandIns
from iyo_magic.server.history import YEAR

from .conftest import ORG, ORG_SECRET
from .test_cli import clean_env, cli_command, exports, start_serve, stop

JOBS = 2000


@pytest.fixture(scope="module")
def year():
    with StandIns(jobs=JOBS) as servers:
        yield servers


def cockpit_of(servers):
    request = LoginRequest(
        client_id=ORG, base_url=servers.iyo_url, cockpit_url=servers.cockpit_url, public_key=servers.key.public_pem
    )
    return login(request, ORG_SECRET).cockpit.repository("production")


def history(servers) -> list[tuple]:
    """The history's jobs as (service, action, state, seconds after the first), oldest first."""
    jobs = cockpit_of(servers).list_jobs()[:JOBS]
    first = jobs[0]["data"]["epoch"]
    return [(j["data"]["service"], j["data"]["action"], j["state"], j["data"]["epoch"] - first) for j in jobs]


def test_a_year_of_jobs_over_real_http(year):
    production = cockpit_of(year)
    jobs = production.list_jobs()
    assert len(jobs) == JOBS + 8  # and the seeded blueprint's and run's 8
    epochs = [job["data"]["epoch"] for job in jobs]
    assert epochs == sorted(epochs) and time.time() - epochs[0] > YEAR * 0.99
    states = Counter(job["state"] for job in jobs)
    assert states["ok"] > JOBS * 0.85 and 20 < states["error"] < JOBS * 0.1 and states["running"] + states["scheduled"]
    services = {job["data"]["service"] for job in jobs}
    assert len(services) == 15 and {"db1", "worker3", "api", "web2"} <= services
    actions = Counter(job["data"]["action"] for job in jobs)
    assert max(actions, key=actions.__getitem__) == "monitor" and {"install", "start", "stop"} <= set(actions)
    failed = production.get_job(next(job["jobid"] for job in jobs if job["state"] == "error"))
    assert failed["logs"][-1]["category"] == "errormsg" and failed["logs"][-1]["log"].startswith("Error: ")
    # The fleet is installed: a new run still installs only what the seed left undone.
    assert production.get_service_by_name("node", "db1")["state"] == "ok"
    assert {job["service_name"] for step in production.create_run()["steps"] for job in step["jobs"]} == {
        "web2",
        "shop",
    }


def test_the_same_history_each_time(year):
    with StandIns(jobs=JOBS) as again:
        assert history(again) == history(year)
    with StandIns(jobs=50) as fewer:
        assert len(cockpit_of(fewer).list_jobs()) == 58


def test_the_list_shows_its_first_rows_converts_and_draws(year):
    jobs = cockpit_of(year).list_jobs()
    html = jobs._repr_html_()
    assert html.count("<tr>") == 1 + 100 and f"the first 100 of {len(jobs)} rows" in html
    pytest.importorskip("pandas")
    frame = jobs.to_frame()
    assert len(frame) == len(jobs) and list(frame.columns) == ["jobid", "state", "actor", "service", "action", "epoch"]
    pytest.importorskip("matplotlib")
    figure = jobs.timeline()
    assert len(figure.axes[0].get_yticklabels()) == 15


def test_serve_jobs(tmp_path):
    proc, _ = start_serve(tmp_path, "--jobs", "300")
    try:
        env = exports((tmp_path / "env").read_text())
        cockpit = env["IYO_COCKPIT_URL"]
        token = requests.post(
            env["IYO_BASE_URL"] + "/v1/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": ORG, "client_secret": ORG_SECRET},
            timeout=10,
        ).json()["access_token"]
        jwt = requests.get(
            env["IYO_BASE_URL"] + "/v1/oauth/jwt", headers={"Authorization": f"token {token}"}, timeout=10
        ).text
        jobs = requests.get(
            cockpit + "/ays/repository/production/job", headers={"Authorization": f"bearer {jwt}"}, timeout=10
        ).json()
        assert len(jobs) == 308
    finally:
        stop(proc)


def test_serve_refuses_a_count_that_is_no_count(tmp_path):

    out = subprocess.run(
        cli_command("serve", tmp_path / "state", "--jobs", "-5"), capture_output=True, text=True, env=clean_env()
    )
    assert out.returncode == 2 and "--jobs: expected a whole number, 0 or more, not '-5'" in out.stderr


def test_the_listing_follows_what_runs_change(year):
    """The stand-in reuses each job's listing entry only while its state and epoch are the same."""
    production = cockpit_of(year)
    run = production.create_run()
    before = {job["jobid"]: job for job in production.list_jobs(fields="service,state,epoch")}
    production.execute_run(run["key"])
    after = {job["jobid"]: job for job in production.list_jobs(fields="service,state,epoch")}
    ran = [job["key"] for step in run["steps"] for job in step["jobs"]]
    assert {after[key]["state"] for key in ran} == {"error", "ok"}  # web2's install fails again; shop's runs
    assert all(after[key]["data"]["state"] == after[key]["state"] for key in ran)
    assert {before[key]["state"] for key in ran} == {"new"}
    assert {key: job for key, job in after.items() if key not in ran} == {
        k: v for k, v in before.items() if k not in ran
    }


class Untouchable(dict):
    """An item that fails if a display reads it."""

    def items(self):
        raise AssertionError("read an item the display does not show")


def test_a_long_list_displays_only_its_first_rows():
    from IPython.core.interactiveshell import InteractiveShell

    from iyo_magic.cockpit.results import Table

    jobs = Table([{"jobid": str(n), "state": "ok"} for n in range(100)] + [Untouchable(jobid="x")] * 100_000)
    assert jobs._repr_html_().count("<tr>") == 1 + 100
    data, _ = InteractiveShell.instance().display_formatter.format(jobs)
    assert data["text/plain"].count("'jobid'") == 100
    assert data["text/plain"].endswith("(the first 100 of 100100 items; all are in the list)")
    short = Table([{"jobid": "1"}, {"jobid": "2"}])
    assert InteractiveShell.instance().display_formatter.format(short)[0]["text/plain"] == repr(list(short))


def test_to_frame_by_columns_is_the_frame_of_the_rows():
    pandas = pytest.importorskip("pandas")
    from iyo_magic.cockpit.results import Table

    listing = Table(
        {"jobid": str(n), "state": "ok", "data": {"state": "error", "epoch": n, "service": f"s{n}"}} for n in range(5)
    )
    irregular = Table([{"jobid": "1", "data": {"epoch": 1}}, {"jobid": "2", "state": "ok"}, {"data": None}, 7])
    for table in (listing, irregular):
        assert table.to_frame().equals(pandas.DataFrame(table.rows()))
    assert list(listing.to_frame().columns) == ["jobid", "state", "epoch", "service"]
    assert listing.to_frame().state.tolist() == ["error"] * 5  # data's field wins, as in a row
