"""A local Cockpit (AYS REST API) that checks JWTs exactly as the g8cockpit does.

Authentication (``process_jwt_token``): the ``jwt`` cookie first, else the ``Authorization``
header, as ``bearer <jwt>`` (scheme case-insensitive); the ES384 signature with the
ItsYou.online key; ``iss == "itsyouonline"``; ``exp`` in the future; ``aud``, when present, must
contain the organization; then ``globalid == ORG`` or ``"user:memberof:ORG"`` in ``scope``.
Failures answer 401 with the Cockpit's own short texts. The AYS API behind it is a small
in-memory model: repositories, blueprints (create, list, execute), services and runs.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter

import jwt as pyjwt
import yaml
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

ISSUER = "itsyouonline"
API_PREFIX = "/api"


def text_401(message: str) -> Response:
    # Flask's make_response(str) answers text/html.
    return Response(message, 401, content_type="text/html; charset=utf-8")


def as_json(data, code: int = 200) -> Response:
    return Response(json.dumps(data), code, content_type="application/json")


def error(code: int, message: str) -> Response:
    return as_json({"error": message}, code)


class CockpitServer:
    """The WSGI application, mounted under ``/api`` as behind the Cockpit's Caddy proxy."""

    def __init__(self, organization: str, public_key_pem: str, *, clock=time.time) -> None:
        self.organization = organization
        self.public_key_pem = public_key_pem
        self.clock = clock
        self.repositories: dict[str, dict] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._run_ids = itertools.count(1)
        repo = "/ays/repository/<repo>"
        self.url_map = Map(
            [
                Rule("/ays/repository", endpoint="repositories", methods=["GET", "POST"]),
                Rule(repo, endpoint="repository", methods=["GET", "DELETE"]),
                Rule(f"{repo}/blueprint", endpoint="blueprints", methods=["GET", "POST"]),
                Rule(f"{repo}/blueprint/<bp>", endpoint="blueprint", methods=["GET", "POST", "PUT", "DELETE"]),
                Rule(f"{repo}/blueprint/<bp>/archive", endpoint="archive", methods=["PUT"]),
                Rule(f"{repo}/blueprint/<bp>/restore", endpoint="restore", methods=["PUT"]),
                Rule(f"{repo}/service", endpoint="services", methods=["GET"]),
                Rule(f"{repo}/service/<role>", endpoint="services_of_role", methods=["GET"]),
                Rule(f"{repo}/service/<role>/<name>", endpoint="service", methods=["GET", "DELETE"]),
                Rule(f"{repo}/aysrun", endpoint="runs", methods=["GET", "POST"]),
                Rule(f"{repo}/aysrun/<run_id>", endpoint="run", methods=["GET"]),
            ]
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
            response = self.authenticate(request)
            if response is None:
                with self._lock:
                    response = getattr(self, "on_" + endpoint)(request, **args)
        except NotFound:
            response = error(404, "not found")
        except MethodNotAllowed:
            response = error(405, "method not allowed")
        except HTTPException as exc:
            response = exc.response or error(exc.code or 500, exc.description or "error")
        return response(environ, start_response)

    # -- authentication, as g8cockpit's process_jwt_token ----------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        header = jwt_cookie(request) or request.headers.get("Authorization")
        if not header:
            return text_401("Not JWT token")
        scheme, _, token = header.partition(" ")
        if not token:
            return text_401("Unauthorized")
        if scheme.lower() != "bearer":
            return text_401("Your JWT is invalid")
        try:
            alg = pyjwt.get_unverified_header(token).get("alg", "")
            claims = pyjwt.decode(
                token,
                self.public_key_pem,
                algorithms=[alg],
                options={"verify_exp": False, "verify_aud": False, "verify_iss": False},
            )
        except pyjwt.InvalidSignatureError:
            return text_401("JWT Error: Signature verification failed.")
        except pyjwt.PyJWTError as exc:
            return text_401(f"JWT Error: {exc}")
        except Exception as exc:  # noqa: BLE001 - the Cockpit answers every failure with a 401
            return text_401(f"Unexpected error : {type(exc).__name__}")
        # python-jose's order: exp, then aud (only when present), then iss.
        if "exp" in claims and float(claims["exp"]) <= self.clock():
            return text_401("Your JWT has expired")
        audience = claims.get("aud")
        if isinstance(audience, str):
            audience = [audience]
        if audience is not None and self.organization not in audience:
            return text_401("JWT Error: Invalid audience")
        if claims.get("iss") != ISSUER:
            return text_401("JWT Error: Invalid issuer")
        scopes = claims.get("scope") or []
        if claims.get("globalid") != self.organization and (f"user:memberof:{self.organization}" not in scopes):
            return text_401("Unauthorized")
        return None

    # -- the AYS API (in memory) -------------------------------------------------------------
    def repo(self, name: str) -> dict:
        if name not in self.repositories:
            raise NotFound()
        return self.repositories[name]

    @staticmethod
    def body(request: Request) -> dict:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise HTTPException(response=error(400, "expected a JSON object body"))
        return data

    def on_repositories(self, request: Request) -> Response:
        if request.method == "GET":
            return as_json([{"name": r["name"]} for r in self.repositories.values()])
        data = self.body(request)
        name = str(data.get("name") or "")
        if not name:
            return error(400, "name is required")
        if name in self.repositories:
            return error(409, f"repository {name} already exists")
        self.repositories[name] = {
            "name": name,
            "path": f"/optvar/cockpit_repos/{name}",
            "git_url": str(data.get("git_url") or ""),
            "blueprints": {},
            "services": {},
            "runs": {},
        }
        return as_json(self.repo_view(self.repositories[name]), 201)

    @staticmethod
    def repo_view(repo: dict) -> dict:
        return {"name": repo["name"], "path": repo["path"], "git_url": repo["git_url"]}

    def on_repository(self, request: Request, repo: str) -> Response:
        found = self.repo(repo)
        if request.method == "DELETE":
            del self.repositories[repo]
            return Response(status=204)
        return as_json(self.repo_view(found))

    def on_blueprints(self, request: Request, repo: str) -> Response:
        found = self.repo(repo)
        if request.method == "GET":
            archived = request.args.get("archived")
            items = [
                {"name": bp["name"], "archived": bp["archived"]}
                for bp in found["blueprints"].values()
                if archived is None or str(bp["archived"]) == archived
            ]
            return as_json(items)
        data = self.body(request)
        name, content = str(data.get("name") or ""), str(data.get("content") or "")
        if not name:
            return error(400, "name is required")
        if name in found["blueprints"]:
            return error(409, f"blueprint {name} already exists")
        problem = blueprint_problem(content)
        if problem:
            return error(400, problem)
        found["blueprints"][name] = {"name": name, "content": content, "archived": False}
        return as_json(found["blueprints"][name], 201)

    def on_blueprint(self, request: Request, repo: str, bp: str) -> Response:
        found = self.repo(repo)
        if bp not in found["blueprints"]:
            return error(404, f"blueprint {bp} not found")
        blueprint = found["blueprints"][bp]
        if request.method == "GET":
            return as_json(blueprint)
        if request.method == "DELETE":
            del found["blueprints"][bp]
            return Response(status=204)
        if request.method == "PUT":
            content = str(self.body(request).get("content") or "")
            problem = blueprint_problem(content)
            if problem:
                return error(400, problem)
            blueprint["content"] = content
            return as_json(blueprint)
        created = []
        for key, value in (yaml.safe_load(blueprint["content"]) or {}).items():
            actor, _, name = str(key).partition("__")
            if not name:
                continue  # actions: and other non-service sections
            role = actor.split(".")[0]
            found["services"][(role, name)] = {
                "role": role,
                "name": name,
                "actor": actor,
                "state": "new",
                "data": value or {},
            }
            created.append(f"{role}!{name}")
        return as_json({"msg": f"blueprint {bp} executed", "services": created})

    def on_archive(self, request: Request, repo: str, bp: str, archived: bool = True) -> Response:
        found = self.repo(repo)
        if bp not in found["blueprints"]:
            return error(404, f"blueprint {bp} not found")
        found["blueprints"][bp]["archived"] = archived
        return as_json({"msg": f"blueprint {bp} {'archived' if archived else 'restored'}"})

    def on_restore(self, request: Request, repo: str, bp: str) -> Response:
        return self.on_archive(request, repo, bp, archived=False)

    def on_services(self, request: Request, repo: str) -> Response:
        services = self.repo(repo)["services"].values()
        return as_json([{"role": s["role"], "name": s["name"]} for s in services])

    def on_services_of_role(self, request: Request, repo: str, role: str) -> Response:
        services = self.repo(repo)["services"].values()
        return as_json([{"role": s["role"], "name": s["name"]} for s in services if s["role"] == role])

    def on_service(self, request: Request, repo: str, role: str, name: str) -> Response:
        services = self.repo(repo)["services"]
        if (role, name) not in services:
            return error(404, f"service {role}!{name} not found")
        if request.method == "DELETE":
            del services[(role, name)]
            return Response(status=204)
        return as_json(services[(role, name)])

    def on_runs(self, request: Request, repo: str) -> Response:
        found = self.repo(repo)
        if request.method == "GET":
            return as_json([run_summary(run) for run in found["runs"].values()])
        pending = [s for s in found["services"].values() if s["state"] != "ok"]
        run_id = str(next(self._run_ids))
        jobs = [
            {"action_name": "install", "actor_name": s["actor"], "service_name": s["name"], "state": "ok"}
            for s in pending
        ]
        simulate = request.args.get("simulate", "").lower() in ("1", "true")
        if not simulate:
            for service in pending:
                service["state"] = "ok"
        run = {
            "key": run_id,
            "epoch": int(self.clock()),
            "state": "ok" if not simulate else "new",
            "steps": [{"number": 1, "jobs": jobs}] if jobs else [],
        }
        found["runs"][run_id] = run
        return as_json(run, 200)

    def on_run(self, request: Request, repo: str, run_id: str) -> Response:
        runs = self.repo(repo)["runs"]
        if run_id not in runs:
            return error(404, f"run {run_id} not found")
        return as_json(runs[run_id])


def run_summary(run: dict) -> dict:
    return {"key": run["key"], "epoch": run["epoch"], "state": run["state"]}


def blueprint_problem(content: str) -> str:
    """Why a blueprint is not valid YAML mapping, or '' when it is."""
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        return f"invalid blueprint YAML: {str(exc).splitlines()[0]}"
    if data is not None and not isinstance(data, dict):
        return "invalid blueprint: the top level must be a mapping of 'actor__name' keys"
    return ""


def jwt_cookie(request: Request) -> str:
    """The ``jwt`` cookie as the Cockpit's framework reads it: ``bearer <jwt>`` holds a space,
    which strict cookie parsers (werkzeug 3.1 and newer) drop, so the header is read here."""
    for pair in request.headers.get("Cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == "jwt":
            return value.strip().strip('"')
    return ""
