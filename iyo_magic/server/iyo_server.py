"""A local ItsYou.online: the OAuth endpoints as the real server answers them, quirks included.

Reproduced (see ``docs/protocol.md``): parameters from the query or a form body; the secret in the
form or by HTTP Basic; bare ``Bad Request``-style text errors; 400 for a bad secret; org keys get
``organization:owner`` and user keys ``user:admin``; the comma-terminated ``scope`` string;
``expires_in`` = lifetime - 600; no ``refresh_token`` field; ``response_type=id_token``; codes
that live 10 s and may be reused within them; raw-prefix redirect URI matching, 400 and no
redirect for a bad one; ``token``/``bearer`` schemes; the prefix-based scope check, 401 for a
refused scope, silent dropping of ``user:memberof`` the user is not in (``[""]`` when nothing is
left); ES384 JWTs with alphabetically ordered claims and ``aud`` only when asked; refresh that
ignores expiry and keeps the refresh token; wrong methods answer 404.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode, urlsplit

import jwt as pyjwt
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import pages
from .accounts import Accounts, demo_passwords
from .keys import SigningKey

ISSUER = "itsyouonline"
ACCESS_TOKEN_LIFETIME = 86400
EXPIRES_IN_MARGIN = 600
REFRESH_TOKEN_IDLE_LIFETIME = 86400 * 30
SESSION_COOKIE = "iyo_session"


def random_token() -> str:
    """28 characters, as the real server's 21 random bytes in URL-safe base64."""
    return secrets.token_urlsafe(21)


def split_scopes(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def scope_allowed(requested: str, granted: list[str]) -> bool:
    """The real server's prefix rule; ``user:admin`` covers every ``user:*``."""
    if "user:admin" in granted and requested.startswith("user:"):
        return True
    return any(requested.startswith(g) for g in granted if g)


def status(code: int, headers: dict | None = None) -> Response:
    """An error as Go's http.Error writes it: the status text and a newline."""
    return Response(HTTP_STATUS_CODES[code] + "\n", code, headers=headers, content_type="text/plain; charset=utf-8")


@dataclass
class StoredAccessToken:
    token: str
    client_id: str
    scopes: list[str]
    expires: float
    username: str = ""
    globalid: str = ""


@dataclass
class AuthorizationRequest:
    username: str
    client_id: str
    redirect_uri: str
    state: str
    scopes: list[str]
    created: float


@dataclass
class StoredRefreshToken:
    azp: str
    scopes: list[str]
    last_used: float
    username: str = ""


@dataclass
class IyoState:
    access_tokens: dict[str, StoredAccessToken] = field(default_factory=dict)
    codes: dict[str, AuthorizationRequest] = field(default_factory=dict)
    refresh_tokens: dict[str, StoredRefreshToken] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    consents: dict[tuple[str, str], set[str]] = field(default_factory=dict)


class IyoServer:
    """The WSGI application. ``hits`` counts requests per endpoint (round-trip figures)."""

    def __init__(
        self,
        accounts: Accounts,
        key: SigningKey,
        *,
        code_lifetime: float = 10.0,
        clock=time.time,
        jupyter_callback: str = "",
    ) -> None:
        self.accounts = accounts
        #: The path of a Jupyter server's callback page to accept from browsers it proxies (see
        #: `jupyter_callback_of`); empty: registered callback URLs only, as the real server.
        self.jupyter_callback = jupyter_callback
        self.key = key
        self.code_lifetime = code_lifetime
        self.clock = clock
        self.state = IyoState()
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.url_map = Map(
            [
                Rule("/v1/oauth/access_token", endpoint="access_token", methods=["POST", "OPTIONS"]),
                Rule("/v1/oauth/authorize", endpoint="authorize", methods=["GET", "OPTIONS"]),
                Rule("/v1/oauth/jwt", endpoint="jwt", methods=["GET", "POST", "OPTIONS"]),
                Rule("/v1/oauth/jwt/refresh", endpoint="refresh", methods=["GET", "POST", "OPTIONS"]),
                Rule("/login", endpoint="login", methods=["GET", "POST"]),
                Rule("/authorize", endpoint="consent", methods=["GET", "POST"]),
            ]
        )

    # -- WSGI plumbing -------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            self.hits[endpoint] += 1
            if request.method == "OPTIONS":
                response = self.options(endpoint, request)
            else:
                response = getattr(self, "on_" + endpoint)(request, **args)
        except (NotFound, MethodNotAllowed):
            # The real server's old router answers a wrong method with 404 too.
            response = Response("404 page not found\n", 404, content_type="text/plain; charset=utf-8")
        except HTTPException as exc:
            response = exc.get_response(environ)
        return response(environ, start_response)

    @staticmethod
    def value(request: Request, name: str) -> str:
        """Go's FormValue: the form body first, then the query string."""
        return request.form.get(name) or request.args.get(name) or ""

    def options(self, endpoint: str, request: Request) -> Response:
        methods = {"access_token": "POST", "authorize": "GET"}.get(endpoint, "GET, POST")
        response = Response("", 200, headers={"Allow": methods})
        if endpoint == "access_token":
            response.headers.update(
                {
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "POST",
                    "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", ""),
                }
            )
        return response

    # -- JWT signing ---------------------------------------------------------------------------
    def sign(self, claims: dict) -> str:
        ordered = {k: claims[k] for k in sorted(claims)}
        return pyjwt.encode(ordered, self.key.private, algorithm="ES384")

    def verified_claims(self, token: str, *, ignore_expiry: bool = False) -> dict | None:
        try:
            return pyjwt.decode(
                token,
                self.key.public_pem,
                algorithms=["ES384"],
                options={"verify_exp": not ignore_expiry, "verify_aud": False},
                leeway=0,
            )
        except pyjwt.PyJWTError:
            return None

    # -- /v1/oauth/access_token ----------------------------------------------------------------
    def on_access_token(self, request: Request) -> Response:
        cors = {"Access-Control-Allow-Origin": "*"}
        client_id = self.value(request, "client_id")
        secret = self.value(request, "client_secret")
        if not secret:
            basic = request.authorization
            if basic is None or basic.type != "basic":
                return status(400, cors)
            client_id, secret = basic.username or "", basic.password or ""
        grant_type = self.value(request, "grant_type")
        code = self.value(request, "code")
        if not client_id or not secret or not (grant_type or code):
            return status(400, cors)
        if grant_type == "client_credentials":
            token = self.client_credentials(client_id, secret)
        elif grant_type in ("", "authorization_code"):
            token = self.exchange_code(request, client_id, secret, code)
        else:
            return status(400, cors)
        if token is None:
            return status(400, cors)

        if self.value(request, "response_type") == "id_token":
            # The access token of this branch is never saved on the real server.
            jwt = self.jwt_for(token, request)
            if jwt is None:
                return status(401, cors)
            if "application/json" in request.headers.get("Accept", ""):
                return Response(
                    json.dumps({"access_token": jwt}, separators=(",", ":")) + "\n",
                    headers=cors,
                    content_type="application/json",
                )
            return Response(jwt, headers=cors, content_type="application/jwt")

        with self._lock:
            self.state.access_tokens[token.token] = token
        body = {
            "access_token": token.token,
            "token_type": "bearer",
            # The stored scope, a comma, then the grants (none here): hence the trailing comma.
            "scope": ",".join(token.scopes) + ",",
            "expires_in": int(token.expires - self.clock()) - EXPIRES_IN_MARGIN,
            "info": {"username": token.username},
        }
        return Response(json.dumps(body, separators=(",", ":")) + "\n", headers=cors, content_type="application/json")

    def client_credentials(self, client_id: str, secret: str) -> StoredAccessToken | None:
        expires = self.clock() + ACCESS_TOKEN_LIFETIME
        key = self.accounts.org_key(client_id, secret)
        if key is not None and key.client_credentials:
            return StoredAccessToken(random_token(), client_id, ["organization:owner"], expires, globalid=client_id)
        user = self.accounts.user_key(client_id, secret)
        if user is None:
            return None
        return StoredAccessToken(random_token(), client_id, ["user:admin"], expires, username=user.username)

    def exchange_code(self, request: Request, client_id: str, secret: str, code: str):
        with self._lock:
            grant = self.state.codes.get(code)
        if grant is None:
            return None
        state = self.value(request, "state")
        if (
            client_id != grant.client_id
            or (state and state != grant.state)
            or self.value(request, "redirect_uri") != grant.redirect_uri
            or self.clock() - grant.created > self.code_lifetime
        ):
            return None
        key = self.accounts.org_key(client_id, secret)
        through_jupyter = bool(self.jupyter_callback) and urlsplit(grant.redirect_uri).path == self.jupyter_callback
        if key is None or not (grant.redirect_uri.startswith(key.callback_url) or through_jupyter):
            return None
        # Codes are not deleted on use: the real server lets one be exchanged again within 10 s.
        return StoredAccessToken(
            random_token(), client_id, list(grant.scopes), self.clock() + ACCESS_TOKEN_LIFETIME, username=grant.username
        )

    # -- JWTs from an access token -------------------------------------------------------------
    def jwt_for(self, token: StoredAccessToken, request: Request) -> str | None:
        """A JWT for ``token`` with the request's scope/aud/validity, or None for a 401."""
        requested = split_scopes(self.value(request, "scope"))
        offline = "offline_access" in requested
        requested = [s for s in requested if s != "offline_access"]
        if requested and not all(scope_allowed(s, token.scopes) for s in requested):
            return None
        granted = requested or list(token.scopes)
        if token.username:
            granted = self.possible_scopes(token.username, granted)
        # Go's strings.Split("", ",") is [""]: an empty result is a list with one empty string.
        scope = granted or [""]
        claims = {
            "azp": token.client_id,
            "exp": int(self.shortened(token.expires, self.value(request, "validity"))),
            "iss": ISSUER,
            "scope": scope,
        }
        if token.username:
            claims["username"] = token.username
        else:
            claims["globalid"] = token.globalid
        audiences = split_scopes(self.value(request, "aud"))
        if audiences:
            claims["aud"] = audiences
        if offline:
            claims["refresh_token"] = self.new_refresh_token(token.client_id, scope, token.username)
        return self.sign(claims)

    def possible_scopes(self, username: str, scopes: list[str]) -> list[str]:
        """Drop ``user:memberof:X`` silently when the user is not a member of X."""
        prefix = "user:memberof:"
        return [s for s in scopes if not s.startswith(prefix) or self.accounts.is_member(username, s[len(prefix) :])]

    def shortened(self, expires: float, validity: str) -> float:
        try:
            seconds = int(validity)
        except ValueError:
            return expires
        return min(expires, self.clock() + seconds) if seconds > 0 else expires

    def new_refresh_token(self, azp: str, scopes: list[str], username: str = "") -> str:
        token = random_token()
        with self._lock:
            self.state.refresh_tokens[token] = StoredRefreshToken(azp, list(scopes), self.clock(), username)
        return token

    def remove_authorization(self, username: str, client_id: str) -> int:
        """What a user does on ItsYou.online to revoke an application: forget the consent and
        every refresh token issued to ``client_id`` for ``username`` (for an organization's own
        key, its globalid as both). Returns how many refresh tokens went."""
        with self._lock:
            self.state.consents.pop((username, client_id), None)
            gone = [
                token
                for token, stored in self.state.refresh_tokens.items()
                if stored.azp == client_id and (stored.username or stored.azp) == username
            ]
            for token in gone:
                del self.state.refresh_tokens[token]
        return len(gone)

    def live_refresh_token(self, token) -> StoredRefreshToken | None:
        with self._lock:
            stored = self.state.refresh_tokens.get(token) if isinstance(token, str) else None
            if stored and self.clock() - stored.last_used > REFRESH_TOKEN_IDLE_LIFETIME:
                del self.state.refresh_tokens[token]
                return None
            return stored

    # -- /v1/oauth/jwt -------------------------------------------------------------------------
    def on_jwt(self, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        if header.startswith(("bearer ", "Bearer ")):
            return self.jwt_from_parent(request, header[7:].strip())
        raw = header[len("token") :] if header.startswith("token") else header
        with self._lock:
            token = self.state.access_tokens.get(raw.strip())
        if token is None or token.expires <= self.clock():
            return status(401)
        jwt = self.jwt_for(token, request)
        if jwt is None:
            return status(401)
        return Response(jwt, content_type="application/jwt")

    def jwt_from_parent(self, request: Request, parent_token: str) -> Response:
        """'Case 3': a new JWT from a valid JWT, as documented (see the caveats kept below)."""
        parent = self.verified_claims(parent_token)
        if parent is None:
            return status(401)
        requested = split_scopes(self.value(request, "scope"))
        offline = "offline_access" in requested
        requested = [s for s in requested if s != "offline_access"]
        stored = self.live_refresh_token(parent.get("refresh_token"))
        if parent.get("refresh_token"):
            if stored is None:
                return status(401)
            bound = stored.scopes
        else:
            if offline:
                return status(401)
            bound = parent.get("scope") or []
        if "username" not in parent:
            return status(500)  # the real handler's type assertion on `username` panics
        if not all(scope_allowed(s, bound) for s in requested):
            return status(401)
        if stored is None:
            return status(500)  # the real handler's int64 assertion on `exp` panics
        claims = {
            "azp": parent.get("azp", ""),
            "exp": int(self.shortened(self.clock() + ACCESS_TOKEN_LIFETIME, self.value(request, "validity"))),
            "globalid": None,  # the real server writes a null globalid for user parents
            "iss": ISSUER,
            "scope": self.possible_scopes(parent["username"], requested),
            "username": parent["username"],
        }
        audiences = split_scopes(self.value(request, "aud"))
        if audiences:
            claims["aud"] = audiences
        if offline:
            claims["refresh_token"] = self.new_refresh_token(claims["azp"], claims["scope"], parent["username"])
        return Response(self.sign(claims), content_type="application/jwt")

    # -- /v1/oauth/jwt/refresh -----------------------------------------------------------------
    def on_refresh(self, request: Request) -> Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith(("bearer ", "Bearer ")):
            return status(401)
        claims = self.verified_claims(header[7:].strip(), ignore_expiry=True)
        if claims is None:
            return status(401)
        stored = self.live_refresh_token(claims.get("refresh_token"))
        if stored is None:
            return status(401)
        with self._lock:
            stored.last_used = self.clock()
        scopes = list(stored.scopes)
        if claims.get("username"):
            scopes = self.possible_scopes(claims["username"], scopes) or [""]
        fresh = dict(claims)
        fresh["scope"] = scopes
        fresh["exp"] = int(self.shortened(self.clock() + ACCESS_TOKEN_LIFETIME, self.value(request, "validity")))
        return Response(self.sign(fresh), content_type="application/jwt")

    # -- /v1/oauth/authorize, login and consent pages ------------------------------------------
    def session_user(self, request: Request) -> str:
        with self._lock:
            return self.state.sessions.get(request.cookies.get(SESSION_COOKIE, ""), "")

    def on_authorize(self, request: Request) -> Response:
        user = self.session_user(request)
        query = request.args.to_dict()
        if not user:
            query["endpoint"] = "/v1/oauth/authorize"
            return redirect(request.script_root + "/login?" + urlencode(query))
        if query.get("response_type") != "code":
            return status(400)
        client_id = query.get("client_id", "")
        redirect_uri = unquote(query.get("redirect_uri", ""))
        registered = self.valid_redirect_uri(client_id, redirect_uri) or self.through_jupyter(request, redirect_uri)
        if not registered or client_id == "itsyouonline":
            return status(400)
        scopes = self.possible_scopes(user, split_scopes(query.get("scope")))
        with self._lock:
            consented = self.state.consents.get((user, client_id))
        if consented is None or not set(scopes) <= consented:
            consent = dict(query, scope=",".join(scopes), endpoint="/v1/oauth/authorize")
            return redirect(request.script_root + "/authorize?" + urlencode(consent))
        code = random_token()
        grant = AuthorizationRequest(user, client_id, redirect_uri, query.get("state", ""), scopes, self.clock())
        with self._lock:
            self.state.codes[code] = grant
        return redirect(with_answer(redirect_uri, {"code": code, "state": grant.state}))

    def jupyter_callback_of(self, request: Request) -> str:
        """With ``jupyter_callback`` set (``iyo-magic serve --jupyter-callback``, as binder/start
        runs it): the Jupyter server's callback page, at the address the browser reached this
        stand-in by through that server's proxy, ending in ``?`` as the magic sends it. A
        stand-in-only convenience, for demos on hosts whose address is not known in advance:
        the real server knows only registered URLs."""
        forwarded = request.headers.get("X-Forwarded-Host")
        if not self.jupyter_callback or not forwarded:
            return ""
        return f"{request.headers.get('X-Forwarded-Proto', 'http')}://{forwarded}{self.jupyter_callback}?"

    def through_jupyter(self, request: Request, redirect_uri: str) -> bool:
        """Whether ``redirect_uri`` is the Jupyter server's callback page (`jupyter_callback_of`),
        with or without its final ``?``."""
        page = self.jupyter_callback_of(request)
        return bool(page) and redirect_uri in (page, page[:-1])

    def valid_redirect_uri(self, client_id: str, uri: str) -> bool:
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in uri):  # Go's url.Parse refuses these
            return False
        parts = urlsplit(uri)
        host = parts.netloc.lower()
        if not parts.scheme or not host or host.endswith("itsyou.online") or "itsyou.online:" in host:
            return False
        return any(uri.startswith(callback) for callback in self.accounts.callback_urls(client_id))

    def on_login(self, request: Request) -> Response:
        if request.method == "GET":
            demo = demo_passwords(self.accounts)
            return html(pages.login_page(request.args.to_dict(), demo_users=demo, root=request.script_root))
        form = request.form.to_dict()
        username, password = form.pop("username", ""), form.pop("password", "")
        if not self.accounts.check_password(username, password):
            wrong = "Wrong username or password."
            return html(pages.login_page(form, wrong, demo_passwords(self.accounts), request.script_root), 401)
        session = secrets.token_urlsafe(24)
        with self._lock:
            self.state.sessions[session] = username
        endpoint = own_endpoint(form.pop("endpoint", ""))
        response = redirect(request.script_root + endpoint + "?" + urlencode(form))
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Lax", path=request.script_root or "/")
        return response

    def on_consent(self, request: Request) -> Response:
        user = self.session_user(request)
        fields = (request.args if request.method == "GET" else request.form).to_dict()
        if not user:
            return redirect(request.script_root + "/login?" + urlencode(fields))
        client_id = fields.get("client_id", "")
        scopes = split_scopes(fields.get("scope"))
        if request.method == "GET":
            return html(pages.consent_page(user, client_id, scopes, fields, request.script_root))
        decision = fields.pop("decision", "")
        endpoint = own_endpoint(fields.pop("endpoint", ""))
        redirect_uri = unquote(fields.get("redirect_uri", ""))
        if decision != "authorize":
            if not (self.valid_redirect_uri(client_id, redirect_uri) or self.through_jupyter(request, redirect_uri)):
                return status(400)
            return redirect(with_answer(redirect_uri, {"error": "access_denied", "state": fields.get("state", "")}))
        with self._lock:
            self.state.consents.setdefault((user, client_id), set()).update(scopes)
        return redirect(request.script_root + endpoint + "?" + urlencode(fields))


#: Where the login and consent pages may send the browser on: this server's own pages only
#: (anything else, ``//elsewhere.example`` included, would make them an open redirect).
OWN_ENDPOINTS = ("/v1/oauth/authorize", "/authorize")


def own_endpoint(value: str) -> str:
    return value if value in OWN_ENDPOINTS else OWN_ENDPOINTS[0]


def with_answer(redirect_uri: str, answer: dict[str, str]) -> str:
    """The redirect URI with the answer appended, as the real server does it (it never parses the
    URI): ``?`` when the URI has none, else ``&`` unless it ends in one already."""
    if "?" not in redirect_uri:
        redirect_uri += "?"
    elif not redirect_uri.endswith("&"):
        redirect_uri += "&"
    return redirect_uri + urlencode(answer)


def redirect(location: str) -> Response:
    return Response("", 302, headers={"Location": location})


def html(text: str, code: int = 200) -> Response:
    return Response(text, code, content_type="text/html; charset=utf-8")
