"""Watching a run: the stand-in runs a run's jobs over time (its run pace), and
``execute_run(..., wait=True)`` / ``create_run(..., simulate=False, wait=True)`` follow it to its end
with a progress display, gentle polls through the session (the JWT renewed as any call), a
timeout and the stop button. Over real HTTP against the stand-ins; the clock-bound cases use
clocks the tests move."""

from __future__ import annotations

import time

import pytest
import requests

from iyo_magic import CockpitError, LoginRequest, login
from iyo_magic.cockpit import watch
from iyo_magic.cockpit.results import Run
from iyo_magic.cockpit.run_progress import TextProgress
from iyo_magic.server import StandIns

from .conftest import ORG, ORG_SECRET, Clock, make_stale
from .test_cockpit_server import sign

#: Four services in three steps; installing ``bad`` fails (an image the location lacks).
BLUEPRINT = """\
sshkey__k:
  key: x
node.ovc__good:
  os: ubuntu.16.04
  sshkey: k
node.ovc__bad:
  os: windows.2012
  sshkey: k
app.web__shop:
  node: good
"""
PACE = 10.0  # seconds per job, on a clock the tests move


def session_for(servers):
    request = LoginRequest(
        client_id=ORG,
        base_url=servers.iyo_url,
        audiences=(ORG,),
        cockpit_url=servers.cockpit_url,
        public_key=servers.key.public_pem,
    )
    return login(request, ORG_SECRET).cockpit


def new_repository(cockpit, name: str = "watched"):
    cockpit.create_repository(name, "")
    repository = cockpit.repository(name)
    repository.create_blueprint("a.yaml", BLUEPRINT)
    repository.execute_blueprint("a.yaml")
    return repository


@pytest.fixture
def paced():
    """Stand-ins whose runs take PACE seconds a job on a clock the test moves; a session; a repository."""
    with StandIns(run_pace=PACE) as servers:
        servers.cockpit.clock = Clock(time.time())
        cockpit = session_for(servers)
        yield servers, cockpit, new_repository(cockpit)


class Sleeper:
    """A `time.sleep` for `watch.follow` that moves the test's clock (and the stand-in's) instead."""

    def __init__(self, clock: Clock, then=None) -> None:
        self.clock, self.then, self.sleeps = clock, then, []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.now += seconds
        if self.then is not None:
            self.then(len(self.sleeps))


def test_the_stand_in_runs_the_steps_over_time_at_its_pace(paced):
    servers, cockpit, repository = paced
    clock = servers.cockpit.clock
    s = requests.Session()
    s.headers["Authorization"] = "bearer " + sign(servers)
    runs = f"{servers.cockpit_url}/ays/repository/watched/aysrun"
    started = s.post(runs, params={"simulate": "false"}).json()
    states = lambda run: [job["state"] for step in run["steps"] for job in step["jobs"]]  # noqa: E731
    assert started["state"] == "running" and states(started) == ["running", "new", "new", "new"]
    clock.now += PACE
    assert states(s.get(f"{runs}/{started['key']}").json()) == ["ok", "running", "new", "new"]
    clock.now += 2 * PACE
    ended = s.get(f"{runs}/{started['key']}").json()
    assert ended["state"] == "error" and states(ended) == ["ok", "error", "ok", "new"]  # step 3 never ran
    epochs = [job["epoch"] for step in ended["steps"][:2] for job in step["jobs"]]
    assert [epoch - int(started["epoch"]) for epoch in epochs] == [int(PACE), int(2 * PACE), int(3 * PACE)]
    # the seeded history is there at once, as before, whatever the pace
    seeded = s.get(f"{servers.cockpit_url}/ays/repository/production/aysrun").json()
    assert [run["state"] for run in seeded] == ["error"]


def test_a_watched_run_shows_its_progress_names_the_failure_and_returns_the_finished_run(paced, capsys):
    servers, cockpit, repository = paced
    run = repository.create_run()
    finished = watch.follow(
        cockpit,
        "watched",
        repository.execute_run(run["key"]),
        clock=servers.cockpit.clock,
        sleep=Sleeper(servers.cockpit.clock),
    )
    assert isinstance(finished, Run) and finished == repository.get_run(run["key"])
    assert finished["state"] == "error"
    lines = capsys.readouterr().out.splitlines()
    key = run["key"]
    assert lines == [
        f"run {key}: step 1 of 3 · 0 of 4 jobs done",
        f"run {key}: step 2 of 3 · 1 of 4 jobs done",
        f"run {key}: node.ovc!bad install failed",  # as it fails; the step's other job runs on
        f"run {key}: step 2 of 3 · 2 of 4 jobs done",
        f"run {key} error: 3 of 4 jobs done · 1 failed: node.ovc!bad install",
    ]


def test_wait_true_through_the_client_returns_the_finished_run(capsys):
    with StandIns(run_pace=0.05) as servers:
        repository = new_repository(session_for(servers))
        finished = repository.create_run(simulate=False, wait=True)
        assert isinstance(finished, Run) and finished["state"] == "error"
        assert finished == repository.get_run(finished["key"])
    out = capsys.readouterr().out
    assert f"run {finished['key']}: node.ovc!bad install failed" in out
    assert out.splitlines()[-1] == f"run {finished['key']} error: 3 of 4 jobs done · 1 failed: node.ovc!bad install"


def test_polls_back_off_to_one_a_second_through_the_session_and_renew_the_jwt(paced):
    servers, cockpit, repository = paced
    run = repository.create_run()
    renewals = cockpit.auth.renewals

    def stale_once(polls):  # the 10th poll finds the JWT due for renewal; later ones, the renewed JWT
        if polls == 10:
            make_stale(cockpit.auth)
        elif polls == 11:
            cockpit.auth.clock = time.time

    sleeper = Sleeper(servers.cockpit.clock, then=stale_once)
    servers.cockpit.hits.clear()
    finished = watch.follow(
        cockpit,
        "watched",
        repository.execute_run(run["key"]),
        clock=servers.cockpit.clock,
        sleep=sleeper,
        view=TextProgress(lambda line: None),
    )
    assert finished["state"] == "error"
    assert sleeper.sleeps[:5] == pytest.approx([0.2, 0.3, 0.45, 0.675, 1.0])
    assert set(sleeper.sleeps[4:]) == {1.0}  # never more than one request a second after that
    # The run took 3 jobs of PACE s: one poll per sleep, the POST, and no more.
    assert sum(sleeper.sleeps[:-1]) < 3 * PACE <= sum(sleeper.sleeps)
    assert dict(servers.cockpit.hits) == {"run": 1 + len(sleeper.sleeps)}
    assert cockpit.auth.renewals == renewals + 1  # the poll after the JWT went stale renewed it


def test_a_timeout_ends_the_wait_in_one_line_naming_the_run(paced):
    servers, cockpit, repository = paced
    run = repository.create_run()
    sleeper = Sleeper(servers.cockpit.clock)
    with pytest.raises(CockpitError) as error:
        watch.follow(
            cockpit,
            "watched",
            repository.execute_run(run["key"]),
            timeout=3,
            clock=servers.cockpit.clock,
            sleep=sleeper,
            view=TextProgress(lambda line: None),
        )
    assert str(error.value) == (
        f"run {run['key']} did not end within 3 s (step 1 of 3 · 0 of 4 jobs done); it goes on in the "
        f"Cockpit: get_run('watched', '{run['key']}') shows it"
    )
    assert sum(sleeper.sleeps) == pytest.approx(3)  # not a poll past the deadline
    assert repository.get_run(run["key"])["state"] == "running"


def test_timeout_through_the_client_and_refused_timeouts(paced):
    servers, cockpit, repository = paced
    run = repository.create_run()
    servers.cockpit.hits.clear()
    for bad in (0, -1, "5", True):
        with pytest.raises(
            CockpitError, match=r"^timeout must be a number of seconds above 0, not .*; nothing was sent$"
        ):
            repository.execute_run(run["key"], wait=True, timeout=bad)
    with pytest.raises(CockpitError, match=r"^create_run: wait=True needs simulate=False"):
        repository.create_run(wait=True)
    assert dict(servers.cockpit.hits) == {}
    began = time.monotonic()
    with pytest.raises(CockpitError, match=rf"^run {run['key']} did not end within 0.5 s"):
        repository.execute_run(run["key"], wait=True, timeout=0.5)  # the stand-in's clock stands still
    assert time.monotonic() - began < 5


def test_the_stop_button_ends_the_wait_in_one_line_and_returns_the_run_as_last_seen(paced, capsys):
    servers, cockpit, repository = paced
    run = repository.create_run()

    def stop(polls):
        if polls == 3:
            raise KeyboardInterrupt

    last = watch.follow(
        cockpit,
        "watched",
        repository.execute_run(run["key"]),
        clock=servers.cockpit.clock,
        sleep=Sleeper(servers.cockpit.clock, then=stop),
    )
    assert last["state"] == "running" and isinstance(last, Run)
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == f"stopped waiting; the run goes on in the Cockpit (runid {run['key']})"


@pytest.mark.kernel
def test_in_a_real_kernel_the_watch_shows_a_bar_names_the_failure_and_the_stop_button_ends_it():
    """A Jupyter kernel with ipywidgets: the progress is a widget (its label's states, as the
    front end receives them), the failing job is named, the finished run returned; an interrupt
    during a wait ends it within a second with the one line and no error."""
    import os
    import threading

    from .kernel import Kernel, text_of

    with StandIns(run_pace=0.3) as servers:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IYO_")}
        env.update(servers.environment(with_demo_credentials=True))
        kernel = Kernel(env)
        received: list[dict] = []
        get_iopub_msg = kernel.client.get_iopub_msg

        def recording(*args, **kwargs):
            message = get_iopub_msg(*args, **kwargs)
            received.append(message)
            return message

        kernel.client.get_iopub_msg = recording
        try:
            kernel.run(
                "%load_ext iyo_magic\n%iyo_token --aud cockpit-demo\n"
                f"iyo_cockpit.create_repository('watched', '')\nlab = iyo_cockpit.repository('watched')\n"
                f"lab.create_blueprint('a.yaml', {BLUEPRINT!r})\nlab.execute_blueprint('a.yaml')\n"
                "run = lab.create_run()"
            )
            outputs = kernel.run("finished = lab.execute_run(run['key'], wait=True)")
            assert kernel.reply["status"] == "ok" and not [o for o in outputs if o["output_type"] == "error"]
            assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
            shown = [
                value
                for message in received
                if message["msg_type"] in ("comm_open", "comm_msg")
                for value in message["content"].get("data", {}).get("state", {}).values()
                if isinstance(value, str)
            ]
            key = text_of(kernel.run("print(run['key'])")).strip()
            assert f"run {key}: step 1 of 3 · 0 of 4 jobs done" in shown
            assert "failed: node.ovc!bad install" in shown
            assert f"run {key} error: 3 of 4 jobs done · 1 failed: node.ovc!bad install" in shown
            check = "print(type(finished).__name__, finished['state'], finished == lab.get_run(run['key']))"
            assert text_of(kernel.run(check)).strip() == "Run error True"

            # Twelve jobs of 0.3 s: the stop button 1.2 s into the wait.
            kernel.run(
                "lab.create_blueprint('b.yaml', ''.join(f'sshkey__k{i}:\\n  key: x\\n' for i in range(12)))\n"
                "lab.execute_blueprint('b.yaml')\nlong = lab.create_run()"
            )
            interrupted: list[float] = []

            def stop():
                interrupted.append(time.monotonic())
                kernel.manager.interrupt_kernel()

            timer = threading.Timer(1.2, stop)
            timer.start()
            outputs = kernel.run("last = lab.execute_run(long['key'], wait=True)")
            ended = time.monotonic()
            timer.join()
            long_key = text_of(kernel.run("print(long['key'])")).strip()
            assert interrupted and ended - interrupted[0] < 1.0, ended - interrupted[0]
            assert kernel.reply["status"] == "ok" and not [o for o in outputs if o["output_type"] == "error"]
            streams = "".join(o["text"] for o in outputs if o["output_type"] == "stream")
            assert streams == f"stopped waiting; the run goes on in the Cockpit (runid {long_key})\n"
            assert text_of(kernel.run("print(last['state'])")).strip() == "running"
        finally:
            kernel.close()


def test_serve_takes_the_run_pace(capsys):
    from iyo_magic.server.cli import _parser, main
    from iyo_magic.server.launch import start_standins

    options = _parser().parse_args(["serve", "--port", "0", "--cockpit-port", "0", "--run-pace", "0.25"])
    servers = start_standins(options)
    try:
        assert servers.cockpit.ays.run_pace == 0.25
    finally:
        servers.stop()
    assert _parser().parse_args(["serve"]).run_pace == 1.0  # a demo's run takes a few seconds
    for bad in ("-1", "soon", "inf"):
        with pytest.raises(SystemExit) as refused:
            main(["serve", "--run-pace", bad])
        assert refused.value.code == 2
    assert "expected a number of seconds, 0 or more, not 'soon'" in capsys.readouterr().err


def test_an_answer_that_is_no_run_is_one_line():
    class Answers:  # a Cockpit that answers get_run with a list
        def get_run(self, repository, runid):
            return ["not", "a", "run"]

    with pytest.raises(
        CockpitError, match=r"^the Cockpit answered get_run for run k1 with something that is not a run$"
    ):
        watch.follow(Answers(), "r", {"key": "k1", "state": "running"}, sleep=lambda s: None, view=TextProgress(print))
    with pytest.raises(CockpitError, match=r"names no run \(no key\)"):
        watch.follow(Answers(), "r", {"state": "running"}, view=TextProgress(print))
