"""The AtYourService model behind the Cockpit stand-in: template repositories and templates,
repositories with blueprints, services, actors, runs and jobs, in memory.

Executing a blueprint makes a service per ``actor__name`` key (and the repository's actor for
each template it uses). A run has one step per dependency level (a service runs after what it
consumes); executing it runs each job, writes its logs with epochs, and stops at the first step
with an error. The one action that fails, as it would on a real node, is installing a
``node.ovc`` on an image the location does not have (``os: windows...``).

A run takes time as on a real Cockpit: each job takes ``run_pace`` seconds, one after another,
and the run is moved on by the clock whenever it is looked at (`Ays.advance`: no thread); a pace
of 0 runs it at once.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from operator import itemgetter
from typing import Any, Callable

import yaml

from ..cockpit.paths import moves_the_path

#: One of the API's JSON objects as the stand-in keeps it: a blueprint, service, actor, run or job.
JsonObject = dict[str, Any]

TEMPLATE_REPO = {"url": "https://github.com/Jumpscale/ays9", "branch": "master"}

#: The AYS templates the stand-in knows: role, actions, schema (capnp text), config.
TEMPLATES: dict[str, dict[str, Any]] = {
    "sshkey": {
        "role": "sshkey",
        "actions": ["install", "delete"],
        "schema": "@0x934efea7f327fff0;\nstruct Schema {\n  key @0 :Text;\n}\n",
        "config": {"links": [], "recurring": []},
    },
    "node.ovc": {
        "role": "node",
        "actions": ["install", "start", "stop", "monitor", "uninstall"],
        "schema": "@0xd6a2ee9f5d5c1a8f;\nstruct Schema {\n  os @0 :Text;\n  memory @1 :UInt16;\n"
        "  sshkey @2 :Text;\n}\n",
        "config": {
            "links": [{"auto": True, "min": 1, "max": 1, "role": "sshkey", "argname": "sshkey"}],
            "recurring": [{"action": "monitor", "log": True, "period": 300}],
        },
    },
    "app.web": {
        "role": "app",
        "actions": ["install", "start", "stop"],
        "schema": "@0xb8a7c3e0d1f2a4b5;\nstruct Schema {\n  node @0 :Text;\n  port @1 :UInt16;\n}\n",
        "config": {"links": [{"auto": False, "min": 1, "max": 1, "role": "node", "argname": "node"}], "recurring": []},
    },
}
#: Which schema field of a service names a service it consumes (and of which role).
CONSUMES = {"sshkey": "sshkey", "node": "node"}

SEED_BLUEPRINT = """\
sshkey__ops:
  key: ops-team
node.ovc__web1:
  os: ubuntu.16.04
  memory: 4
  sshkey: ops
node.ovc__web2:
  os: windows.2012
  memory: 8
  sshkey: ops
app.web__shop:
  node: web1
  port: 443
"""


class NotFoundError(Exception):
    """What was asked for does not exist (the API answers 404)."""


class Conflict(Exception):
    """It exists already, or cannot be done in its state (409)."""


class Invalid(Exception):
    """The request is malformed (400)."""


def blueprint_problem(content: str) -> str:
    """Why a blueprint is not a valid YAML mapping, or '' when it is."""
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        return f"invalid blueprint YAML: {str(exc).splitlines()[0]}"
    if data is not None and not isinstance(data, dict):
        return "invalid blueprint: the top level must be a mapping of 'actor__name' keys"
    for key in data or {}:
        actor, _, service = str(key).partition("__")
        if actor in TEMPLATES and moves_the_path(service):
            return (
                f"invalid blueprint: a service may not be named {service!r} (as a path segment it names another path)"
            )
    return ""


def checked_name(kind: str, name: str) -> str:
    """``name``, unless it is empty, ``.`` or ``..`` or holds a ``/`` (also percent-encoded): as
    a path segment such a name would be another endpoint's path (``DELETE .../blueprint/..`` is
    the repository)."""
    if moves_the_path(name):
        raise Invalid(f"a {kind} may not be named {name!r}: as a path segment it names another path")
    return name


class Ays:
    """Every repository of one Cockpit. ``clock`` gives epochs (tests move it)."""

    def __init__(self, clock: Callable[[], float], *, seed: bool = True, run_pace: float = 0.0) -> None:
        if not run_pace >= 0:
            raise ValueError("run_pace must be a number of seconds, 0 or more")
        self.clock = clock
        #: Seconds each job of an executed run takes (0: the run is done at once).
        self.run_pace = run_pace
        self.template_repos = [dict(TEMPLATE_REPO)]
        self.repositories: dict[str, Repository] = {}
        self._ids = itertools.count(1)
        if seed:
            self._seed()

    def new_id(self, kind: str) -> str:
        return hashlib.sha1(f"{kind}{next(self._ids)}".encode()).hexdigest()[:12]  # noqa: S324 - an id

    def repository(self, name: str) -> Repository:
        if name not in self.repositories:
            raise NotFoundError(f"repository {name} not found")
        return self.repositories[name]

    def create_repository(self, name: str, git_url: str) -> Repository:
        if name in self.repositories:
            raise Conflict(f"repository {name} already exists")
        if not name:
            raise Invalid("name and git_url are required")
        checked_name("repository", name)  # git_url may be "" (ays9's schema: it is a string)
        self.repositories[name] = Repository(self, name, git_url)
        return self.repositories[name]

    @staticmethod
    def template_names() -> list[str]:
        return list(TEMPLATES)

    @staticmethod
    def template(name: str) -> JsonObject:
        if name not in TEMPLATES:
            raise NotFoundError(f"template {name} not found")
        spec = TEMPLATES[name]
        actions = [{"name": action, "code": f"def {action}(job):\n    ...\n"} for action in spec["actions"]]
        return {
            "name": name,
            "role": spec["role"],
            "actions": actions,
            "schema": spec["schema"],
            "path": f"/opt/code/github/jumpscale/ays9/templates/{name}",
            "config": spec["config"],
        }

    def new_actor(self, name: str, path: str) -> JsonObject:
        """An actor of template ``name`` as ays9's ``actor_view`` gives it: its actions, by name,
        each with ``name, code, state, recurring`` (None, or ``{period}`` when it recurs)."""
        actor = self.template(name)
        periods = {spec["action"]: spec["period"] for spec in TEMPLATES[name]["config"]["recurring"]}
        actor["actions"] = [
            {
                "name": action["name"],
                "code": action["code"],
                "state": "new",
                "recurring": {"period": periods[action["name"]]} if action["name"] in periods else None,
            }
            for action in sorted(actor["actions"], key=lambda action: action["name"])
        ]
        return actor | {"path": path}

    def advance(self) -> None:
        """Move every running run on to the clock's now (the server calls it before each request)."""
        now = self.clock()
        for repo in self.repositories.values():
            repo.advance(now)

    def _seed(self) -> None:
        """A repository with history: a blueprint executed 70 minutes ago, and a run of it started
        ten minutes later in which one install failed."""
        repo = self.create_repository("production", "https://git.example.org/ops/production")
        now = self.clock
        try:
            self.clock = lambda: now() - 4200
            repo.create_blueprint("web.yaml", SEED_BLUEPRINT)
            repo.execute_blueprint("web.yaml")
            self.clock = lambda: now() - 3600
            repo.execute_run(repo.create_run()["key"], pace=0)
        finally:
            self.clock = now


class Repository:
    def __init__(self, ays: Ays, name: str, git_url: str) -> None:
        self.ays, self.name, self.git_url = ays, name, git_url
        self.path = f"/optvar/cockpit_repos/{name}"
        self.blueprints: dict[str, JsonObject] = {}
        self.services: dict[tuple[str, str], JsonObject] = {}
        self.actors: dict[str, JsonObject] = {}
        self.runs: dict[str, JsonObject] = {}
        self.jobs: dict[str, JsonObject] = {}
        #: Each job's listing entry as JSON, by (job, fields), with the state and epoch it was made for.
        self.listed: dict[tuple[str, tuple[str, ...]], tuple[str, int, str]] = {}
        #: The JumpScale client instances configure-jslocation made: (jslocation, instance) to data.
        self.jslocations: dict[tuple[str, str], JsonObject] = {}
        #: The runs under way: key to (when it started, seconds per job).
        self.running: dict[str, tuple[float, float]] = {}

    def view(self) -> JsonObject:
        return {"name": self.name, "git_url": self.git_url, "path": self.path}

    def destroy(self) -> None:
        """What ``destroy`` does: services, actors, runs and jobs go; blueprints (files) stay."""
        self.services.clear()
        self.actors.clear()
        self.runs.clear()
        self.running.clear()
        self.jobs.clear()
        self.listed.clear()

    # -- blueprints ------------------------------------------------------------------------------
    def blueprint(self, name: str) -> JsonObject:
        if name not in self.blueprints:
            raise NotFoundError(f"blueprint {name} not found")
        return self.blueprints[name]

    def create_blueprint(self, name: str, content: str) -> JsonObject:
        if not name:
            raise Invalid("name is required")
        checked_name("blueprint", name)
        if name in self.blueprints:
            raise Conflict(f"blueprint {name} already exists")
        problem = blueprint_problem(content)
        if problem:
            raise Invalid(problem)
        self.blueprints[name] = {"name": name, "archived": False, "path": f"{self.path}/blueprints/{name}"}
        return self.update_blueprint(name, content)

    def update_blueprint(self, name: str, content: str) -> JsonObject:
        problem = blueprint_problem(content)
        if problem:
            raise Invalid(problem)
        blueprint = self.blueprint(name)
        blueprint["content"] = content
        blueprint["hash"] = hashlib.md5(content.encode()).hexdigest()  # noqa: S324 - AYS's content hash
        return blueprint

    def execute_blueprint(self, name: str) -> JsonObject:
        blueprint = self.blueprint(name)
        if blueprint["archived"]:
            raise Conflict(f"blueprint {name} is archived; restore it first")
        created, jobs = [], []
        for key, data in (yaml.safe_load(blueprint["content"]) or {}).items():
            actor, _, service_name = str(key).partition("__")
            if not service_name:
                continue  # actions: and other sections that are not services
            if actor not in TEMPLATES:
                raise Invalid(f"blueprint {name}: no template {actor} (see list_ays_templates)")
            self._add_service(actor, service_name, data or {})
            created.append(f"{TEMPLATES[actor]['role']}!{service_name}")
            jobs.append(self._job(self.services[(TEMPLATES[actor]["role"], service_name)], "processChange", "ok"))
        self._link()
        return {"msg": f"blueprint {name} executed", "services": sorted(created), "processChangeJobs": jobs}

    def _add_service(self, actor: str, name: str, data: Mapping[str, Any]) -> None:
        role = TEMPLATES[actor]["role"]
        existing = self.services.get((role, name))
        actions = [
            {"name": action, "state": "new", "code": "", "recurring": None} for action in TEMPLATES[actor]["actions"]
        ]
        for spec in TEMPLATES[actor]["config"]["recurring"]:
            for action in actions:
                if action["name"] == spec["action"]:
                    action["recurring"] = {"period": spec["period"], "last_run": 0}
        self.services[(role, name)] = {
            "key": existing["key"] if existing else self.ays.new_id("service"),
            "name": name,
            "role": role,
            "actor": actor,
            "repository": self.name,
            "path": f"{self.path}/services/{actor}!{name}",
            "data": dict(data),
            "state": existing["state"] if existing else "new",
            "actions": existing["actions"] if existing else actions,
            "parent": None,
            "producers": [],
            "consumers": [],
            "children": [],
            "events": [],
        }
        if actor not in self.actors:
            self.actors[actor] = self.ays.new_actor(actor, f"{self.path}/actors/{actor}")

    def _link(self) -> None:
        """Producers and consumers, from the schema fields that name another service."""
        for service in self.services.values():
            service["producers"], service["consumers"] = [], []
        for service in self.services.values():
            for field, role in CONSUMES.items():
                producer = self.services.get((role, str(service["data"].get(field, ""))))
                if producer is not None and producer is not service:
                    service["producers"].append({"role": role, "name": producer["name"]})
                    producer["consumers"].append({"role": service["role"], "name": service["name"]})

    # -- services, actors ------------------------------------------------------------------------
    def service(self, role: str, name: str) -> JsonObject:
        if (role, name) not in self.services:
            raise NotFoundError(f"service {role}!{name} not found")
        return self.services[(role, name)]

    def delete_service(self, role: str, name: str) -> None:
        service = self.service(role, name)
        for child in list(service["children"]):
            self.delete_service(child["role"], child["name"])
        del self.services[(role, name)]
        self._link()

    def actor(self, name: str) -> JsonObject:
        if name not in self.actors:
            raise NotFoundError(f"actor {name} not found")
        return self.actors[name]

    def update_actor(self, name: str) -> JsonObject:
        """The actor ``name`` again from its template's latest version (the stand-in's templates
        do not change: the same actor)."""
        self.actors[name] = self.ays.new_actor(name, self.actor(name)["path"])
        return self.actors[name]

    def configure_jslocation(self, jslocation: str, instance: str, data: Mapping[str, Any]) -> None:
        """What ays9's configure-jslocation does: the instance ``<repository>_<instance>`` of the
        JumpScale client at ``jslocation`` (which must start with ``j.``) holds ``data``."""
        if not jslocation.startswith("j."):
            raise Invalid("Invalid location")
        self.jslocations[(jslocation, f"{self.name}_{instance}")] = dict(data)

    # -- runs and jobs ---------------------------------------------------------------------------
    def create_run(self) -> JsonObject:
        pending = [s for s in self.services.values() if s["state"] != "ok"]
        steps, number = [], 1
        placed: set[tuple[str, str]] = set()
        while pending:
            ready = [s for s in pending if all(self._placed_or_done(p, placed) for p in s["producers"])]
            ready = ready or pending  # a cycle: run the rest together
            jobs = [self._job(s, "install", "new") for s in sorted(ready, key=lambda s: (s["role"], s["name"]))]
            steps.append({"number": number, "jobs": jobs})
            placed.update((s["role"], s["name"]) for s in ready)
            pending = [s for s in pending if (s["role"], s["name"]) not in placed]
            number += 1
        key = self.ays.new_id("run")
        self.runs[key] = {"key": key, "state": "new", "retry": 0, "epoch": int(self.ays.clock()), "steps": steps}
        return self.run_view(key)

    def _placed_or_done(self, pointer: JsonObject, placed: set[tuple[str, str]]) -> bool:
        """A producer in an earlier step of this run, or already installed."""
        key = (pointer["role"], pointer["name"])
        return key in placed or self.services.get(key, {}).get("state") == "ok"

    def run(self, key: str) -> JsonObject:
        if key not in self.runs:
            raise NotFoundError(f"run {key} not found")
        return self.runs[key]

    def run_view(self, key: str) -> JsonObject:
        run = self.run(key)
        steps = [{"number": s["number"], "jobs": [self.jobs[j] for j in s["jobs"]]} for s in run["steps"]]
        return {**run, "steps": steps}

    def execute_run(self, key: str, pace: float | None = None) -> JsonObject:
        """Start the run ``key``: its jobs run one after another, ``pace`` seconds each (default:
        the stand-in's ``run_pace``), as the clock moves on (`advance`)."""
        run = self.run(key)
        if run["state"] != "new":
            raise Conflict(f"run {key} is {run['state']}: only a new run can be executed")
        run["state"] = "running"
        now = self.ays.clock()
        self.running[key] = (now, self.ays.run_pace if pace is None else pace)
        self.advance(now)
        return self.run_view(key)

    def advance(self, now: float) -> None:
        """Run the jobs of each running run that are due by ``now``."""
        for key, (started, pace) in list(self.running.items()):
            if key not in self.runs or self._ran_until(self.runs[key], started, pace, now):
                del self.running[key]  # ended, or deleted while it ran

    def _ran_until(self, run: JsonObject, started: float, pace: float, now: float) -> bool:
        """Run ``run``'s jobs due by ``now`` (the n-th ends at ``started + n * pace``), mark the
        next one running, and end the run after its last step or a step with an error; whether it ended."""
        position = 0
        for step in run["steps"]:
            for job_id in step["jobs"]:
                job, position = self.jobs[job_id], position + 1
                if job["state"] in ("ok", "error"):
                    continue
                if started + position * pace > now:
                    job["state"] = "running"
                    return False
                self._execute(job, started + position * pace)
            if any(self.jobs[j]["state"] == "error" for j in step["jobs"]):
                run["state"] = "error"
                return True
        run["state"] = "ok"
        return True

    def _job(self, service: JsonObject, action: str, state: str) -> str:
        key = self.ays.new_id("job")
        self.jobs[key] = {
            "key": key,
            "action_name": action,
            "actor": service["actor"],
            "service_key": service["key"],
            "service_name": service["name"],
            "role": service["role"],
            "state": state,
            "epoch": int(self.ays.clock()),
            "tags": [],
            "logs": [],
        }
        return key

    def _execute(self, job: JsonObject, at: float) -> None:
        """Run ``job`` as it ends at the epoch ``at``."""
        service = self.services.get((job["role"], job["service_name"]))
        now = int(at)
        job["epoch"] = now

        def log(level: int, text: str, category: str = "msg") -> None:
            job["logs"].append({"category": category, "epoch": now, "level": level, "log": text, "tags": ""})

        log(1, f"{job['action_name']} of {job['actor']}!{job['service_name']} started")
        failure = self._failure(job, service)
        if failure:
            log(1, failure, "errormsg")
            job["state"] = "error"
        else:
            log(1, f"{job['action_name']} of {job['actor']}!{job['service_name']} done")
            job["state"] = "ok"
        if service is not None:
            service["state"] = job["state"]
            for action in service["actions"]:
                if action["name"] == job["action_name"]:
                    action["state"] = job["state"]

    @staticmethod
    def _failure(job: JsonObject, service: JsonObject | None) -> str:
        if service is None:
            return "the service was deleted before its job ran"
        image = str(service["data"].get("os", ""))
        if job["actor"] == "node.ovc" and job["action_name"] == "install" and image.startswith("windows"):
            return f"Error: image {image} is not available at this location (available: ubuntu.16.04, ubuntu.18.04)"
        return ""

    def job_listing(self, filters: Mapping[str, str], fields: list[str]) -> str:
        """JobData[] as JSON text (compact, as ays9's Sanic sends it): each job's id and state, and
        the asked fields (default: who, what, when); ``filters`` are listJobs' query parameters.
        A job's entry of steady fields is serialised once and reused while its state and epoch
        stay the same: a year of jobs is listed in a fraction of what the client takes to read it."""
        fields = fields or ["actor", "service", "action", "epoch"]
        since, until = _epoch(filters, "fromEpoch"), _epoch(filters, "toEpoch")
        keys = [(field, JOB_FIELDS.get(field, field)) for field in fields]
        steady = set(fields) <= STEADY_FIELDS
        filtered = any(filters.get(name) for name in (*LIST_FILTERS, "tags"))
        shape = tuple(fields)
        listed = []
        for job in sorted(self.jobs.values(), key=itemgetter("epoch")):
            epoch, state = job["epoch"], job["state"]
            if not since <= epoch <= until or (filtered and not _matches(job, filters)):
                continue
            known = self.listed.get((job["key"], shape)) if steady else None
            if known is None or known[:2] != (state, epoch):
                data = {field: job.get(key) for field, key in keys}
                known = (
                    state,
                    epoch,
                    json.dumps({"jobid": job["key"], "state": state, "data": data}, separators=COMPACT),
                )
                if steady:
                    self.listed[(job["key"], shape)] = known
            listed.append(known[2])
        return "[" + ",".join(listed) + "]"


#: The names listJobs uses (its filters and ``fields``) for a job's keys.
JOB_FIELDS = {
    "actor": "actor",
    "service": "service_name",
    "action": "action_name",
    "state": "state",
    "serviceKey": "service_key",
    "epoch": "epoch",
    "tags": "tags",
}
#: The filters that take a comma-separated list of values.
LIST_FILTERS = ("actor", "service", "action", "state", "serviceKey")
#: The fields of a job that never change, but its state and epoch (compared on each use).
STEADY_FIELDS = {"actor", "service", "action", "serviceKey", "state", "epoch"}
COMPACT = (",", ":")


def _matches(job: JsonObject, filters: Mapping[str, str]) -> bool:
    for name in LIST_FILTERS:
        wanted = filters.get(name)
        if wanted and job[JOB_FIELDS[name]] not in wanted.split(","):
            return False
    tags = filters.get("tags")
    return not tags or set(tags.split(",")) <= set(job["tags"])


def _epoch(filters: Mapping[str, str], name: str) -> float:
    """The ``fromEpoch``/``toEpoch`` bound; none is no bound."""
    value = filters.get(name) or ""
    if not value:
        return float("-inf") if name == "fromEpoch" else float("inf")
    if not value.lstrip("-").isdigit():
        raise Invalid(f"{name} must be a whole number (an epoch)")
    return int(value)
