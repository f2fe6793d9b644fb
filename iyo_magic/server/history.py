"""A year of history for the Cockpit stand-in (``iyo-magic serve --jobs N``, ``StandIns(jobs=N)``):
a fleet of services in the ``production`` repository and N jobs of theirs, for demos and benchmarks.

The jobs' services, actions, states and times come from a `random.Random` seeded with ``seed``, so
the same N and seed give the same history (its epochs counted back from the stand-in's clock). They
are spread over the year before the seeded blueprint's execution; most end ``ok``, some ``error``
(more during a few incidents, as a real fleet has bad days), and the newest are still ``running``
or ``scheduled``. The fleet's services stay ``ok``: `create_run` does not pick them up.
"""

from __future__ import annotations

import random
from typing import Any

from .ays import Ays, JsonObject

YEAR = 365 * 24 * 3600
#: Where the history ends: before the seeded blueprint (executed 70 minutes ago).
BEFORE_NOW = 2 * 3600

FLEET_BLUEPRINT = """\
sshkey__deploy:
  key: deploy-bot
node.ovc__db1:
  os: ubuntu.18.04
  memory: 16
  sshkey: deploy
node.ovc__db2:
  os: ubuntu.18.04
  memory: 16
  sshkey: deploy
node.ovc__cache1:
  os: ubuntu.18.04
  memory: 8
  sshkey: deploy
node.ovc__worker1:
  os: ubuntu.16.04
  memory: 4
  sshkey: deploy
node.ovc__worker2:
  os: ubuntu.16.04
  memory: 4
  sshkey: deploy
node.ovc__worker3:
  os: ubuntu.16.04
  memory: 4
  sshkey: deploy
app.web__api:
  node: worker1
  port: 8443
app.web__admin:
  node: worker2
  port: 9443
app.web__blog:
  node: worker3
  port: 443
app.web__status:
  node: cache1
  port: 80
"""

#: How often each actor's actions run (relative weights): monitoring recurs, installs are rare.
ACTIONS = {
    "node.ovc": {"monitor": 70, "start": 8, "stop": 8, "install": 8, "uninstall": 6},
    "app.web": {"start": 40, "stop": 35, "install": 25},
    "sshkey": {"install": 80, "delete": 20},
}
#: How often an action fails on an ordinary day, and what it says then.
FAILURE_RATE = {"install": 0.08, "uninstall": 0.05}
ORDINARY_FAILURE_RATE = 0.02
FAILURES = {
    "monitor": "Error: {service} did not answer the health check within 30 s",
    "install": "Error: could not download the image for {service}: connection reset by peer",
    "uninstall": "Error: {service} still has attached disks",
    "start": "Error: {service} exited with status 1 right after starting",
    "stop": "Error: {service} did not stop within 60 s; killed",
    "delete": "Error: the key of {service} is still in use",
}
#: Bad days: (where in the year, 0 to 1; how many days; which services; how often their jobs fail).
INCIDENTS = [
    (0.23, 2.0, ("db1", "db2"), 0.6),
    (0.61, 1.0, ("worker1", "worker2", "worker3", "api"), 0.5),
    (0.88, 3.0, ("cache1", "status"), 0.7),
]
#: The newest jobs are still going (one in 200, at most 20): running, or scheduled.
STILL_GOING = (200, 20)


def seed_jobs(ays: Ays, count: int, seed: int = 23) -> None:
    """Give the ``production`` repository the fleet and ``count`` historical jobs of it."""
    if count <= 0:
        return
    repo = ays.repository("production")
    end = int(ays.clock()) - BEFORE_NOW
    start = end - YEAR
    clock = ays.clock
    try:
        ays.clock = lambda: start - 600
        repo.create_blueprint("fleet.yaml", FLEET_BLUEPRINT)
        executed = repo.execute_blueprint("fleet.yaml")
    finally:
        ays.clock = clock
    for job in executed["processChangeJobs"]:  # older than the history: exactly ``count`` jobs
        del repo.jobs[job]
    created = executed["services"]
    fleet = [repo.service(*pointer.split("!")) for pointer in created]
    rng = random.Random(seed)  # noqa: S311 - a reproducible history, not a secret
    epochs = sorted(rng.randrange(start, end) for _ in range(count))
    going = min(STILL_GOING[1], max(1, count // STILL_GOING[0]))
    history: dict[str, JsonObject] = {}
    for number, epoch in enumerate(epochs):
        service = rng.choice(fleet)
        actions = ACTIONS[service["actor"]]
        action = rng.choices(list(actions), weights=list(actions.values()))[0]
        if number >= count - going:
            state = rng.choice(("running", "scheduled"))
        else:
            state = _state(rng, service, action, epoch, start)
        job = _job(ays.new_id("job"), service, action, epoch, state)
        history[job["key"]] = job
    repo.jobs = {**history, **repo.jobs}  # oldest first, as the Cockpit keeps them
    for service in fleet:
        service["state"] = "ok"
        for action in service["actions"]:
            action["state"] = "ok"


def _state(rng: random.Random, service: JsonObject, action: str, epoch: int, start: int) -> str:
    """``ok`` or ``error``, by the action's failure rate, or the incident's on a bad day."""
    rate = FAILURE_RATE.get(action, ORDINARY_FAILURE_RATE)
    for where, days, names, incident_rate in INCIDENTS:
        began = start + where * YEAR
        if service["name"] in names and began <= epoch < began + days * 86400:
            rate = incident_rate
    return "error" if rng.random() < rate else "ok"


def _job(key: str, service: JsonObject, action: str, epoch: int, state: str) -> JsonObject:
    """A job as `Repository._job` makes it, with the logs it would have written."""
    name = f"{service['actor']}!{service['name']}"
    logs: list[dict[str, Any]] = [
        {"category": "msg", "epoch": epoch, "level": 1, "log": f"{action} of {name} started", "tags": ""}
    ]
    if state == "error":
        text = FAILURES[action].format(service=service["name"])
        logs.append({"category": "errormsg", "epoch": epoch, "level": 1, "log": text, "tags": ""})
    elif state == "ok":
        logs.append({"category": "msg", "epoch": epoch, "level": 1, "log": f"{action} of {name} done", "tags": ""})
    return {
        "key": key,
        "action_name": action,
        "actor": service["actor"],
        "service_key": service["key"],
        "service_name": service["name"],
        "role": service["role"],
        "state": state,
        "epoch": epoch,
        "tags": [],
        "logs": logs,
    }
