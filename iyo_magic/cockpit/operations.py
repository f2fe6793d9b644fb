"""The Cockpit's AYS API as methods: each of the 35 named operations of its spec (the RAML of
ays9's AtYourService server, ``JumpScale9AYS/ays/server/apidocs/api.raml``) and its two webhooks
is a method of `CockpitOperations`, named after its ``displayName`` in Python style, with the
spec's parameter names, documented in its docstring.

The methods are the one table: `operation` reads each one's signature to build the request (the
arguments named in the path fill it, those it lists as ``body`` go in the JSON body, the rest in
the query), so ``iyo_cockpit.list_jobs?`` shows exactly what is sent. Results are plain lists and
dicts that display as tables (``cockpit.results``). `Repository` gives one repository's
operations without repeating its name: ``iyo_cockpit.repository("demo").list_jobs(state="error")``.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import TYPE_CHECKING, Any, Callable, TypeVar
from urllib.parse import quote

from ..errors import CockpitError
from .paths import decoded, moves_the_path

if TYPE_CHECKING:
    import requests

_PATH_PARAMETER = re.compile(r"{(\w+)}")
_F = TypeVar("_F", bound=Callable[..., Any])


def _calls(method: str, path: str) -> Callable[[_F], _F]:
    """Mark the decorated method as the call ``METHOD path`` (`Repository` and the tests read it)."""

    def mark(function: _F) -> _F:
        # Through vars(): a function takes any attribute, but mypy knows only a function's own.
        vars(function)["cockpit_operation"] = (method, path)
        return function

    return mark


#: The keyword-only arguments of an operation that answers a run (``waits``): the client's own, never sent.
WAIT_ARGUMENTS = ("wait", "timeout")


def operation(
    method: str, path: str, *, body: tuple[str, ...] = (), shows: str = "", waits: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make the decorated method (a signature and a docstring) the call ``METHOD path``;
    ``shows`` names how its result displays (see `cockpit_results.result_of`); ``waits``: it
    answers a run, and with ``wait=True`` follows it until it ends (``cockpit.watch``)."""

    def make(function: Callable[..., Any]) -> Callable[..., Any]:
        in_path = _PATH_PARAMETER.findall(path)

        @_calls(method, path)
        @functools.wraps(function)
        def call(self: CockpitOperations, *args: Any, **kwargs: Any) -> Any:
            bound = _signature(function).bind(self, *args, **kwargs)
            bound.apply_defaults()
            values = {name: value for name, value in bound.arguments.items() if name != "self"}
            local = {name: values.pop(name) for name in WAIT_ARGUMENTS} if waits else {}
            if local.get("wait"):
                from .watch import checked_timeout, follow

                if values.get("simulate"):
                    raise CockpitError(
                        f"{function.__name__}: wait=True needs simulate=False (a simulation runs nothing); "
                        "nothing was sent",
                        None,
                    )
                local["timeout"] = checked_timeout(local["timeout"])
            repository = values.get("repository")
            url = path.format(**{name: _path_argument(function.__name__, name, values.pop(name)) for name in in_path})
            payload = {name: values.pop(name) for name in body if values.get(name) is not None}
            query = {name: _query_value(value) for name, value in values.items() if value is not None}
            response = self.request(method, url, params=query or None, json=payload if body else None)
            from .results import result_of  # the tables' module: on the first call, not at login

            result = result_of(response, shows)
            if local.get("wait"):
                return follow(self, str(repository), result, timeout=local["timeout"])
            return result

        return call

    return make


def _path_argument(operation_name: str, name: str, value: Any) -> str:
    """``value`` as one segment of the path, encoded; refused when it is empty, ``.`` or ``..``
    or holds a ``/`` (also percent-encoded), which would send the request to another endpoint
    (``cockpit.paths``)."""
    text = str(value)
    if moves_the_path(text):
        decodes_to = "" if decoded(text) == text else f" (it decodes to {decoded(text)!r})"
        raise CockpitError(
            f"{operation_name}: {name} may not be {text!r}{decodes_to}: not one path segment; nothing was sent", None
        )
    return quote(text, safe="")


def _header_argument(operation_name: str, name: str, value: Any) -> str:
    """``value`` as a header's value; refused when it holds a line break or another control
    character (another header, or a request of its own) or starts with a space."""
    text = str(value)
    if text[:1].isspace() or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise CockpitError(
            f"{operation_name}: {name} may not hold a line break or another control character, nor start "
            "with a space (it is a header's value); nothing was sent",
            None,
        )
    return text


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature:
    """A method's signature, read on its first call (not at import: ``%iyo_token`` stays quick)."""
    return inspect.signature(function)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(item) for item in value)
    return str(value)


class CockpitOperations:
    """The AYS API's operations; `CockpitSession` (``iyo_cockpit``) has them all."""

    #: Each operation is one request: `CockpitSession.request`, which this class is a mixin of.
    request: Callable[..., requests.Response]

    # -- AYS itself and its templates ------------------------------------------------------------
    @operation("POST", "/ays/reload")
    def reload(self):
        """Reload AYS: read the templates and repositories from disk again."""

    @operation("POST", "/ays/template_repo", body=("url", "branch"), shows="record")
    def add_template_repo(self, url: str, branch: str = "master"):
        """Add a repository of AYS templates.

        url     the git URL of the template repository
        branch  its branch (default master)
        """

    @operation("GET", "/ays/templates", shows="table")
    def list_ays_templates(self):
        """The templates AYS knows (names)."""

    @operation("GET", "/ays/templates/{name}", shows="record")
    def get_ays_template(self, name: str):
        """One AYS template: role, actions, schema, config.

        name  the template's name, e.g. node.ovc
        """

    # -- repositories ----------------------------------------------------------------------------
    @operation("GET", "/ays/repository", shows="table")
    def list_repositories(self):
        """The repositories of this Cockpit: name, git_url, path."""

    @operation("POST", "/ays/repository", body=("name", "git_url"), shows="record")
    def create_repository(self, name: str, git_url: str):
        """Create a repository.

        name     the new repository's name
        git_url  the git URL it is kept in
        """

    @operation("GET", "/ays/repository/{repository}", shows="record")
    def get_repository(self, repository: str):
        """One repository: name, git_url, path.

        repository  the repository's name
        """

    @operation("DELETE", "/ays/repository/{repository}")
    def delete_repository(self, repository: str):
        """DELETE a repository, its blueprints, services, runs and jobs. It cannot be undone.

        repository  the repository's name
        """

    @operation("POST", "/ays/repository/{repository}/destroy")
    def destroy_repository(self, repository: str):
        """DESTROY a repository's services, actors, runs and jobs; its blueprints (files) stay.

        repository  the repository's name
        """

    # -- blueprints ------------------------------------------------------------------------------
    @operation("GET", "/ays/repository/{repository}/blueprint", shows="table")
    def list_blueprints(self, repository: str, archived: bool = True):
        """A repository's blueprints.

        repository  the repository's name
        archived    include archived blueprints (default True)
        """

    @operation("POST", "/ays/repository/{repository}/blueprint", body=("name", "content"), shows="record")
    def create_blueprint(self, repository: str, name: str, content: str):
        """Add a blueprint (YAML: each ``actor__name`` key is a service); execute_blueprint applies it.

        repository  the repository's name
        name        the blueprint's name, e.g. web.yaml
        content     the blueprint's YAML text
        """

    @operation("GET", "/ays/repository/{repository}/blueprint/{blueprint}", shows="record")
    def get_blueprint(self, repository: str, blueprint: str):
        """One blueprint: name, content, archived, hash, path.

        repository  the repository's name
        blueprint   the blueprint's name
        """

    @operation("POST", "/ays/repository/{repository}/blueprint/{blueprint}", body=("message",), shows="record")
    def execute_blueprint(self, repository: str, blueprint: str, message: str | None = None):
        """Execute a blueprint: create or change its services (the processChange job ids come back).

        repository  the repository's name
        blueprint   the blueprint's name
        message     a note for this change (optional)
        """

    @operation("PUT", "/ays/repository/{repository}/blueprint/{blueprint}", body=("name", "content"), shows="record")
    def update_blueprint(self, repository: str, blueprint: str, name: str, content: str):
        """Replace a blueprint's content.

        repository  the repository's name
        blueprint   the blueprint's name
        name        its name (the same)
        content     the new YAML text
        """

    @operation("DELETE", "/ays/repository/{repository}/blueprint/{blueprint}")
    def delete_blueprint(self, repository: str, blueprint: str):
        """DELETE a blueprint (its services stay).

        repository  the repository's name
        blueprint   the blueprint's name
        """

    @operation("PUT", "/ays/repository/{repository}/blueprint/{blueprint}/archive", shows="record")
    def archive_blueprint(self, repository: str, blueprint: str):
        """Archive a blueprint: it stays, and is no longer executed.

        repository  the repository's name
        blueprint   the blueprint's name
        """

    @operation("PUT", "/ays/repository/{repository}/blueprint/{blueprint}/restore", shows="record")
    def restore_blueprint(self, repository: str, blueprint: str):
        """Restore an archived blueprint.

        repository  the repository's name
        blueprint   the blueprint's name
        """

    # -- services --------------------------------------------------------------------------------
    @operation("GET", "/ays/repository/{repository}/service", shows="table")
    def list_services(self, repository: str, actor: str | None = None, role: str | None = None, service=None):
        """A repository's services (role and name), optionally filtered.

        repository  the repository's name
        actor       only services of this actor, e.g. node.ovc
        role        only services of this role, e.g. node
        service     only services of this name
        """

    @operation("GET", "/ays/repository/{repository}/service/{role}", shows="table")
    def list_services_by_role(
        self, repository: str, role: str, parent: str | None = None, consume: str | None = None, fields=None
    ):
        """The services of one role, with their data.

        repository  the repository's name
        role        the role, e.g. node
        parent      only children of this service
        consume     only services that consume this one (name, or role!name)
        fields      only these data fields (a list, or comma-separated)
        """

    @operation("GET", "/ays/repository/{repository}/service/{role}/{name}", shows="service")
    def get_service_by_name(self, repository: str, role: str, name: str):
        """One service: state, data, actions and their states, producers, consumers, children.

        repository  the repository's name
        role        the service's role, e.g. node
        name        the service's name
        """

    @operation("DELETE", "/ays/repository/{repository}/service/{role}/{name}")
    def delete_service_by_name(self, repository: str, role: str, name: str):
        """DELETE a service and its children.

        repository  the repository's name
        role        the service's role
        name        the service's name
        """

    # -- actors and templates of a repository ----------------------------------------------------
    @operation("GET", "/ays/repository/{repository}/actor", shows="table")
    def list_actors(self, repository: str):
        """A repository's actors (names): one per template its services use.

        repository  the repository's name
        """

    @operation("GET", "/ays/repository/{repository}/actor/{actor}", shows="record")
    def get_actor_by_name(self, repository: str, actor: str):
        """One actor: role, actions, schema.

        repository  the repository's name
        actor       the actor's name, e.g. node.ovc
        """

    @operation("PUT", "/ays/repository/{repository}/actor/{actor}", shows="record")
    def update_actor(self, repository: str, actor: str):
        """Update an actor to its template's latest version.

        repository  the repository's name
        actor       the actor's name
        """

    @operation("GET", "/ays/repository/{repository}/template", shows="table")
    def list_templates(self, repository: str):
        """The templates a repository can use (names).

        repository  the repository's name
        """

    @operation("GET", "/ays/repository/{repository}/template/{name}", shows="record")
    def get_template(self, repository: str, name: str):
        """One template of a repository: role, actions, schema, config.

        repository  the repository's name
        name        the template's name
        """

    @operation("GET", "/ays/repository/{repository}/template/update", shows="record")
    def update_templates(self, repository: str):
        """Pull a repository's templates again (from their git repositories).

        repository  the repository's name
        """

    # -- runs and jobs ---------------------------------------------------------------------------
    @operation("GET", "/ays/repository/{repository}/aysrun", shows="table")
    def list_runs(self, repository: str):
        """A repository's runs: key, epoch, state (new, running, ok, error).

        repository  the repository's name
        """

    @operation("POST", "/ays/repository/{repository}/aysrun", shows="run", waits=True)
    def create_run(
        self,
        repository: str,
        simulate: bool = True,
        callback_url: str | None = None,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ):
        """Create a run of the actions waiting in a repository. A SIMULATION by default: the run
        shows what would run, and nothing is executed; execute_run(key) executes it, or pass
        simulate=False to create and execute at once (and wait=True to follow it to its end).

        repository    the repository's name
        simulate      True (the default): create the run, do not execute it
        callback_url  a URL the Cockpit calls when the run ends (optional)
        wait          with simulate=False: follow the run until it ends, as execute_run does
        timeout       with wait: give up waiting after this many seconds (the run goes on)
        """

    @operation("GET", "/ays/repository/{repository}/aysrun/{runid}", shows="run")
    def get_run(self, repository: str, runid: str):
        """One run: its steps and their jobs' states.

        repository  the repository's name
        runid       the run's key
        """

    @operation("POST", "/ays/repository/{repository}/aysrun/{runid}", shows="run", waits=True)
    def execute_run(self, repository: str, runid: str, *, wait: bool = False, timeout: float | None = None):
        """EXECUTE a run (one that is new, e.g. a simulation): its jobs run, step by step. The
        Cockpit answers at once; wait=True follows the run until it ends, showing its step and
        jobs done and naming each job that fails, and returns the finished run (as get_run).
        The stop button (Ctrl+C) ends the wait, not the run, and returns the run as last seen.

        repository  the repository's name
        runid       the run's key
        wait        follow the run until it ends (default False: return at once)
        timeout     with wait: give up waiting after this many seconds (a CockpitError; the run goes on)
        """

    @operation("DELETE", "/ays/repository/{repository}/aysrun/{runid}")
    def delete_run(self, repository: str, runid: str):
        """DELETE a run.

        repository  the repository's name
        runid       the run's key
        """

    @operation(
        "POST",
        "/ays/repository/{repository}/configure-jslocation",
        body=("jslocation", "instance", "data"),
        shows="record",
    )
    def configure_jslocation(self, repository: str, jslocation: str, instance: str, data: dict | None = None):
        """Configure a JumpScale client instance for a repository's services: the instance
        ``<repository>_<instance>`` of the client at ``jslocation``.

        repository  the repository's name
        jslocation  the client's JumpScale location, e.g. j.clients.openvcloud (it starts with j.)
        instance    the instance's name
        data        the instance's configuration (a dict, optional)
        """

    @operation("GET", "/ays/repository/{repository}/job", shows="table")
    def list_jobs(
        self,
        repository: str,
        actor: str | None = None,
        service: str | None = None,
        action: str | None = None,
        state: str | None = None,
        serviceKey: str | None = None,  # the spec's names
        fromEpoch: int | None = None,
        toEpoch: int | None = None,
        tags=None,
        fields=None,
    ):
        """A repository's jobs, oldest first: jobid, state and (by default) actor, service, action, epoch.

        repository  the repository's name
        actor       only jobs of these actors (a list, or comma-separated)
        service     only jobs of these services (names)
        action      only jobs of these actions, e.g. install
        state       only jobs in these states, e.g. error
        serviceKey  only jobs of the service with this key
        fromEpoch   only jobs that ran at or after this epoch (seconds)
        toEpoch     only jobs that ran at or before this epoch
        tags        only jobs with all these tags
        fields      which fields to show for each job
        """

    @operation("GET", "/ays/repository/{repository}/job/{jobid}", shows="job")
    def get_job(self, repository: str, jobid: str):
        """One job, with its logs.

        repository  the repository's name
        jobid       the job's key (jobid in list_jobs)
        """

    # -- webhooks --------------------------------------------------------------------------------
    @_calls("POST", "/webhooks/github")
    def github_webhook(self, payload: dict, event: str = "push"):
        """Send a GitHub event to the Cockpit, as GitHub's webhook does.

        payload  the event's JSON, as GitHub sends it
        event    the X-GitHub-Event header (default push)
        """
        headers = {"X-GitHub-Event": _header_argument("github_webhook", "event", event)}
        response = self.request("POST", "/webhooks/github", json=payload, headers=headers)
        from .results import result_of

        return result_of(response, "record")

    @operation("POST", "/webhooks/events", body=("command", "tags", "payload"), shows="record")
    def send_event(self, command: str, tags=(), payload: dict | None = None):
        """Send an event to the Cockpit's services.

        command  the event's command
        tags     its tags (a list)
        payload  its data (a dict)
        """

    # -- one repository --------------------------------------------------------------------------
    def repository(self, name: str) -> Repository:
        """One repository's operations, without repeating its name:
        ``iyo_cockpit.repository("demo").list_jobs(state="error")``."""
        return Repository(self, name)


def _for_one_repository(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    signature = _signature(function)
    parameters = [p for p in signature.parameters.values() if p.name != "repository"]

    def method(self: Repository, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.cockpit, name)(self.name, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"Repository.{name}"
    method.__doc__ = function.__doc__
    # What inspect (and so ``repository.list_jobs?``) shows; set through vars() as in `_calls`.
    vars(method)["__signature__"] = signature.replace(parameters=parameters)
    return method


class Repository:
    """The operations of one repository (`CockpitOperations.repository`): the repository-wide
    operations of `CockpitOperations`, each a method of this class with ``repository`` bound.
    They are made when the first one is (at import they would slow ``%iyo_token``)."""

    _made = False

    def __init__(self, cockpit: CockpitOperations, name: str) -> None:
        if not Repository._made:
            for operation_name, function in list(vars(CockpitOperations).items()):
                if "{repository}" in getattr(function, "cockpit_operation", ("", ""))[1]:
                    setattr(Repository, operation_name, _for_one_repository(operation_name, function))
            Repository._made = True
        self.cockpit, self.name = cockpit, name

    def __repr__(self) -> str:
        return f"<Cockpit repository {self.name!r}>"
