"""A local Cockpit (AYS REST API: the 35 named operations of ays9's spec and its two webhooks)
that checks JWTs as the real Cockpits do.

Authentication (g8cockpit's ``process_jwt_token``): the ``jwt`` cookie first, else the
``Authorization`` header, as ``bearer <jwt>`` (scheme case-insensitive); the ES384 signature with
the ItsYou.online key; ``iss == "itsyouonline"``; ``exp`` in the future; ``aud``, when present,
must contain the organization; then one of the claims the generation accepts. Which claims, and
the 401 texts, are each generation's (``rules``: g8cockpit, or ays9, whose ``check_token`` also
lets ``azp == ORG`` through), from `iyo_magic.cockpit.rules`. The API's model is in ``ays``;
errors are ``{"code": int, "error": str}``. Paths are read as Sanic (ays9's framework) reads
them, ``/x/`` as ``/x``; a name in a path or a new name that is empty, ``.`` or ``..`` (also
percent-encoded) is refused with a 400.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import jwt as pyjwt
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..cockpit.rules import DEFAULT, GENERATIONS
from .ays import Ays, Conflict, Invalid, NotFoundError, checked_name

ISSUER = "itsyouonline"
API_PREFIX = "/api"
#: What each of the routes' path arguments names (in the 400 for a name such as ``..``).
PATH_ARGUMENTS = {"repo": "repository", "bp": "blueprint", "run_id": "run", "job_id": "job"}


def as_json(data, code: int = 200) -> Response:
    return Response(json.dumps(data), code, content_type="application/json")


def error(code: int, message: str) -> Response:
    return as_json({"code": code, "error": message}, code)


def no_content() -> Response:
    return Response(status=204)


class CockpitServer:
    """The WSGI application, mounted under ``/api`` as behind the Cockpit's Caddy proxy."""

    def __init__(
        self,
        organization: str,
        public_key_pem: str,
        *,
        clock=time.time,
        rules: str = DEFAULT,
        seed: bool = True,
        run_pace: float = 0.0,
    ) -> None:
        """``run_pace``: the seconds each job of an executed run takes (0: a run is done at once)."""
        if rules not in GENERATIONS:
            raise ValueError(f"rules must be one of {', '.join(GENERATIONS)}")
        self.organization = organization
        self.public_key_pem = public_key_pem
        self.clock = clock
        self.rules = rules
        self.generation = GENERATIONS[rules]
        self.ays = Ays(lambda: self.clock(), seed=seed, run_pace=run_pace)
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        repo = "/ays/repository/<repo>"
        self.url_map = Map(
            [
                Rule("/ays/reload", endpoint="reload", methods=["POST"]),
                Rule("/ays/template_repo", endpoint="template_repo", methods=["POST"]),
                Rule("/ays/templates", endpoint="ays_templates", methods=["GET"]),
                Rule("/ays/templates/<name>", endpoint="ays_template", methods=["GET"]),
                Rule("/ays/repository", endpoint="repositories", methods=["GET", "POST"]),
                Rule(repo, endpoint="repository", methods=["GET", "DELETE"]),
                Rule(f"{repo}/destroy", endpoint="destroy", methods=["POST"]),
                Rule(f"{repo}/blueprint", endpoint="blueprints", methods=["GET", "POST"]),
                Rule(f"{repo}/blueprint/<bp>", endpoint="blueprint", methods=["GET", "POST", "PUT", "DELETE"]),
                Rule(f"{repo}/blueprint/<bp>/archive", endpoint="archive", methods=["PUT"]),
                Rule(f"{repo}/blueprint/<bp>/restore", endpoint="restore", methods=["PUT"]),
                Rule(f"{repo}/service", endpoint="services", methods=["GET"]),
                Rule(f"{repo}/service/<role>", endpoint="services_of_role", methods=["GET"]),
                Rule(f"{repo}/service/<role>/<name>", endpoint="service", methods=["GET", "DELETE"]),
                Rule(f"{repo}/actor", endpoint="actors", methods=["GET"]),
                Rule(f"{repo}/actor/<actor>", endpoint="actor", methods=["GET", "PUT"]),
                Rule(f"{repo}/template", endpoint="templates", methods=["GET"]),
                Rule(f"{repo}/template/update", endpoint="update_templates", methods=["GET"]),
                Rule(f"{repo}/template/<name>", endpoint="template", methods=["GET"]),
                Rule(f"{repo}/aysrun", endpoint="runs", methods=["GET", "POST"]),
                Rule(f"{repo}/aysrun/<run_id>", endpoint="run", methods=["GET", "POST", "DELETE"]),
                Rule(f"{repo}/configure-jslocation", endpoint="configure_jslocation", methods=["POST"]),
                Rule(f"{repo}/job", endpoint="jobs", methods=["GET"]),
                Rule(f"{repo}/job/<job_id>", endpoint="job", methods=["GET"]),
                Rule("/webhooks/github", endpoint="github", methods=["POST"]),
                Rule("/webhooks/events", endpoint="events", methods=["POST"]),
            ],
            strict_slashes=False,  # as Sanic, which ays9 runs on: /x/ is /x
            merge_slashes=False,  # and //x is no route
        )

    def __call__(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if not path.startswith(API_PREFIX + "/"):
            return error(404, "not found; the API is under /api")(environ, start_response)
        adapter = self.url_map.bind(request.host, path_info=path[len(API_PREFIX) :], url_scheme=request.scheme)
        try:
            endpoint, args = adapter.match(method=request.method)
            self.hits[endpoint] += 1
            # Every /ays route is secured; the webhooks are for GitHub and other senders of events.
            response = None if endpoint in ("github", "events") else self.authenticate(request)
            if response is None:
                for argument, value in args.items():  # a name that moves the path: 400, as AYS's own checks answer
                    checked_name(PATH_ARGUMENTS.get(argument, argument), value)
                with self._lock:
                    self.ays.advance()  # the runs under way, to the clock's now
                    response = getattr(self, "on_" + endpoint)(request, **args)
        except NotFoundError as exc:
            response = error(404, str(exc))
        except Conflict as exc:
            response = error(409, str(exc))
        except Invalid as exc:
            response = error(400, str(exc))
        except NotFound:
            response = error(404, "not found")
        except MethodNotAllowed:
            response = error(405, "method not allowed")
        except HTTPException as exc:
            response = exc.response or error(exc.code or 500, exc.description or "error")
        return response(environ, start_response)

    # -- authentication, as g8cockpit's process_jwt_token and ays9's check_token ----------------
    def authenticate(self, request: Request) -> Response | None:
        rules = self.generation
        header = jwt_cookie(request) or request.headers.get("Authorization")
        if not header:
            return self.refuse(rules.no_jwt)
        scheme, _, token = header.partition(" ")
        if not token:
            return self.refuse(rules.malformed)
        if scheme.lower() != "bearer":
            return self.refuse(rules.not_bearer)
        try:
            alg = pyjwt.get_unverified_header(token).get("alg", "")
            claims = pyjwt.decode(
                token,
                self.public_key_pem,
                algorithms=[alg],
                options={"verify_exp": False, "verify_aud": False, "verify_iss": False},
            )
        except pyjwt.InvalidSignatureError:
            return self.refuse(rules.bad_signature)
        except pyjwt.PyJWTError as exc:
            return self.refuse(rules.jwt_error.format(exc))
        except Exception as exc:  # the Cockpit answers every failure with a 401
            return self.refuse(rules.unexpected.format(type(exc).__name__))
        # python-jose's order: exp, then aud (only when present), then iss.
        if "exp" in claims and float(claims["exp"]) <= self.clock():
            return self.refuse(rules.expired)
        audience = claims.get("aud")
        if isinstance(audience, str):
            audience = [audience]
        if audience is not None and self.organization not in audience:
            return self.refuse(rules.bad_audience)
        if claims.get("iss") != ISSUER:
            return self.refuse(rules.bad_issuer)
        return None if rules.admits(claims, self.organization) else self.refuse(rules.not_admitted)

    def refuse(self, text: str) -> Response:
        """A 401 as this generation's framework answers it: the text alone."""
        return Response(text, 401, content_type=self.generation.content_type)

    # -- the AYS API (the model is in ``ays``) ---------------------------------------------------
    @staticmethod
    def body(request: Request) -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise Invalid("expected a JSON object body")
        return data

    def on_reload(self, request: Request) -> Response:
        return as_json({"msg": "AYS reloaded: templates and repositories read again"})

    def on_template_repo(self, request: Request) -> Response:
        data = self.body(request)
        if not data.get("url"):
            raise Invalid("url is required")
        added = {"url": str(data["url"]), "branch": str(data.get("branch") or "master")}
        self.ays.template_repos.append(added)
        return as_json(added, 201)

    def on_ays_templates(self, request: Request) -> Response:
        return as_json([{"name": name} for name in sorted(self.ays.template_names())])

    def on_ays_template(self, request: Request, name: str) -> Response:
        return as_json(self.ays.template(name))

    def on_repositories(self, request: Request) -> Response:
        if request.method == "GET":
            return as_json([repo.view() for repo in self.ays.repositories.values()])
        data = self.body(request)
        # ays9 validates with a JSON schema: both are required strings, and "" is a string.
        name, git_url = data.get("name"), data.get("git_url")
        if not isinstance(name, str) or not isinstance(git_url, str):
            raise Invalid("name and git_url are required (strings)")
        return as_json(self.ays.create_repository(name, git_url).view(), 201)

    def on_repository(self, request: Request, repo: str) -> Response:
        found = self.ays.repository(repo)
        if request.method == "DELETE":
            del self.ays.repositories[repo]
            return no_content()
        return as_json(found.view())

    def on_destroy(self, request: Request, repo: str) -> Response:
        self.ays.repository(repo).destroy()
        return no_content()

    def on_blueprints(self, request: Request, repo: str) -> Response:
        found = self.ays.repository(repo)
        if request.method == "GET":
            archived = request.args.get("archived", "true").lower() in ("1", "true")
            shown = [bp for bp in found.blueprints.values() if archived or not bp["archived"]]
            return as_json([{"name": bp["name"], "archived": bp["archived"]} for bp in shown])
        data = self.body(request)
        return as_json(found.create_blueprint(str(data.get("name") or ""), str(data.get("content") or "")), 201)

    def on_blueprint(self, request: Request, repo: str, bp: str) -> Response:
        found = self.ays.repository(repo)
        blueprint = found.blueprint(bp)
        if request.method == "GET":
            return as_json(blueprint)
        if request.method == "DELETE":
            del found.blueprints[bp]
            return no_content()
        if request.method == "PUT":
            return as_json(found.update_blueprint(bp, str(self.body(request).get("content") or "")))
        return as_json(found.execute_blueprint(bp))

    def on_archive(self, request: Request, repo: str, bp: str, archived: bool = True) -> Response:
        self.ays.repository(repo).blueprint(bp)["archived"] = archived
        return as_json({"msg": f"blueprint {bp} {'archived' if archived else 'restored'}"})

    def on_restore(self, request: Request, repo: str, bp: str) -> Response:
        return self.on_archive(request, repo, bp, archived=False)

    def on_services(self, request: Request, repo: str) -> Response:
        # Each query parameter, and the service's field it filters on.
        filters = {"actor": "actor", "role": "role", "service": "name"}
        wanted = {field: request.args[arg] for arg, field in filters.items() if request.args.get(arg)}
        services = self.ays.repository(repo).services.values()
        shown = [s for s in services if all(s[field] == value for field, value in wanted.items())]
        return as_json([{"role": s["role"], "name": s["name"]} for s in shown])

    def on_services_of_role(self, request: Request, repo: str, role: str) -> Response:
        services = [s for s in self.ays.repository(repo).services.values() if s["role"] == role]
        parent, consumed = request.args.get("parent"), request.args.get("consume")
        fields = [f for f in request.args.get("fields", "").split(",") if f]
        listed = []
        for service in services:
            if parent and (service["parent"] or {}).get("name") != parent:
                continue
            producers = {p["name"] for p in service["producers"]} | {
                f"{p['role']}!{p['name']}" for p in service["producers"]
            }
            if consumed and consumed not in producers:  # only the services that consume it
                continue
            data = {k: v for k, v in service["data"].items() if not fields or k in fields}
            listed.append({"role": service["role"], "name": service["name"], "data": data})
        return as_json(listed)

    def on_service(self, request: Request, repo: str, role: str, name: str) -> Response:
        found = self.ays.repository(repo)
        if request.method == "DELETE":
            found.delete_service(role, name)
            return no_content()
        return as_json(found.service(role, name))

    def on_actors(self, request: Request, repo: str) -> Response:
        return as_json([{"name": name} for name in sorted(self.ays.repository(repo).actors)])

    def on_actor(self, request: Request, repo: str, actor: str) -> Response:
        found = self.ays.repository(repo)
        current = found.actor(actor)
        if request.method == "PUT":  # to the template's latest version
            current = found.update_actor(actor)
        return as_json(current)

    def on_templates(self, request: Request, repo: str) -> Response:
        self.ays.repository(repo)
        return as_json([{"name": name} for name in sorted(self.ays.template_names())])

    def on_template(self, request: Request, repo: str, name: str) -> Response:
        self.ays.repository(repo)
        return as_json(self.ays.template(name))

    def on_update_templates(self, request: Request, repo: str) -> Response:
        self.ays.repository(repo)  # its templates are the stand-in's own: nothing to pull
        return as_json({"message": "Templates Updated"})

    def on_configure_jslocation(self, request: Request, repo: str) -> Response:
        data = self.body(request)
        jslocation, instance, config = data.get("jslocation"), data.get("instance"), data.get("data") or {}
        if not isinstance(jslocation, str) or not isinstance(instance, str) or not isinstance(config, dict):
            raise Invalid("jslocation and instance are required (strings); data is an object")
        self.ays.repository(repo).configure_jslocation(jslocation, instance, config)
        return as_json({"message": "Instance configured"}, 201)

    def on_runs(self, request: Request, repo: str) -> Response:
        found = self.ays.repository(repo)
        if request.method == "GET":
            runs = sorted(found.runs.values(), key=lambda run: run["epoch"])
            return as_json([{"key": r["key"], "epoch": r["epoch"], "state": r["state"]} for r in runs])
        run = found.create_run()
        if request.args.get("simulate", "").lower() not in ("1", "true"):
            run = found.execute_run(run["key"])  # it goes on at the stand-in's run pace, as on a Cockpit
        return as_json(run)

    def on_run(self, request: Request, repo: str, run_id: str) -> Response:
        found = self.ays.repository(repo)
        found.run(run_id)
        if request.method == "DELETE":
            del found.runs[run_id]
            return no_content()
        if request.method == "POST":
            return as_json(found.execute_run(run_id))
        return as_json(found.run_view(run_id))

    def on_jobs(self, request: Request, repo: str) -> Response:
        found = self.ays.repository(repo)
        fields = [f for f in request.args.get("fields", "").split(",") if f]
        return Response(found.job_listing(request.args, fields), 200, content_type="application/json")

    def on_job(self, request: Request, repo: str, job_id: str) -> Response:
        found = self.ays.repository(repo)
        if job_id not in found.jobs:
            raise NotFoundError(f"job {job_id} not found")
        return as_json(found.jobs[job_id])

    def on_github(self, request: Request) -> Response:
        event = request.headers.get("X-GitHub-Event", "push")
        return as_json({"msg": f"github {event} event received"})

    def on_events(self, request: Request) -> Response:
        data = self.body(request)
        if not data.get("command"):
            raise Invalid("command is required")
        return as_json({"msg": f"event {data['command']} received", "tags": list(data.get("tags") or [])})


def jwt_cookie(request: Request) -> str:
    """The ``jwt`` cookie as the Cockpit's framework reads it: ``bearer <jwt>`` holds a space,
    which strict cookie parsers (werkzeug 3.1 and newer) drop, so the header is read here."""
    for pair in request.headers.get("Cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == "jwt":
            return value.strip().strip('"')
    return ""
