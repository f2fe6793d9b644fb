"""`RunProgress`: where a run is, from any shape of answer (iyo_magic/cockpit/run_progress.py)."""

from __future__ import annotations

from iyo_magic.cockpit.run_progress import RunProgress, TextProgress, job_name


def job(state, service="web1", actor="node.ovc", **more):
    return {"actor": actor, "service_name": service, "action_name": "install", "state": state, **more}


def run(state, *steps):
    return {"key": "k1", "state": state, "steps": [{"number": n, "jobs": jobs} for n, jobs in enumerate(steps, 1)]}


def test_the_step_under_way_and_the_jobs_done():
    progress = RunProgress(run("running", [job("ok", "a")], [job("running", "b"), job("new", "c")]))
    assert (progress.step, progress.steps, progress.done, progress.total) == (2, 2, 1, 3)
    assert progress.line() == "run k1: step 2 of 2 · 1 of 3 jobs done"


def test_an_ended_run_names_its_failures_and_the_step_it_stopped_at():
    progress = RunProgress(run("error", [job("ok", "a")], [job("error", "b"), job("ok", "c")], [job("new", "d")]))
    assert progress.ended and progress.step == 2 and progress.failed == ["node.ovc!b install"]
    assert progress.line() == "run k1 error: 3 of 4 jobs done · 1 failed: node.ovc!b install"
    assert RunProgress(run("ok", [job("ok")])).line() == "run k1 ok: 1 of 1 jobs done"


def test_ays9s_actor_name_and_shapes_the_api_does_not_give():
    assert job_name({"actor_name": "sshkey", "service_name": "k", "action_name": "install"}) == "sshkey!k install"
    assert (
        RunProgress({"key": "k", "state": "running", "steps": "soon"}).line() == "run k: step 0 of 0 · 0 of 0 jobs done"
    )
    odd = RunProgress({"state": "new", "steps": [{"number": 1, "jobs": ["x", job("ok")]}, "y"]})
    assert (odd.key, odd.steps, odd.total, odd.done) == ("?", 1, 1, 1)


def test_text_lines_only_when_something_changed():
    lines: list[str] = []
    view = TextProgress(lines.append)
    for answer in (run("running", [job("running")]), run("running", [job("running")]), run("error", [job("error")])):
        view.show(RunProgress(answer))
    assert lines == [
        "run k1: step 1 of 1 · 0 of 1 jobs done",
        "run k1: node.ovc!web1 install failed",
        "run k1 error: 1 of 1 jobs done · 1 failed: node.ovc!web1 install",
    ]
