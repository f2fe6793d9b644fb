"""`CockpitSession`: a `requests.Session` bound to a Cockpit base URL, authenticated by `IyoAuth`,
with the AYS API's operations as methods (``cockpit.operations``).

``iyo_cockpit.list_repositories()`` or ``iyo_cockpit.get("/ays/repository")`` sends the fresh
JWT, and an error answer raises a `CockpitError` whose one-line message says what the Cockpit
answered (its ``{"code", "error"}``) and, for a 401, which claim it most likely wants.
"""

from __future__ import annotations

import functools
from urllib.parse import urlsplit, urlunsplit

import requests

from ..auth.requests_auth import IyoAuth
from ..errors import CockpitError
from ..oauth.transport import LoopbackDirectSession, first_line, without_credentials
from ..oauth.url_policy import check_url, origin, parsed
from ..settings import DEFAULT_TIMEOUT
from ..tokens import JWT
from .operations import CockpitOperations
from .paths import is_under, resolved


@functools.lru_cache(maxsize=1)
def _advice_401() -> dict[str, str]:
    """What to do about each 401 text of every Cockpit generation. The others (a credential that
    is no bearer JWT, a JWT without the claims) get `CockpitSession._claims_hint`. Made on the
    first 401: the rules' dataclasses cost a login that never meets one ~2 ms of import."""
    from .rules import GENERATIONS

    advice = {}
    for rules in GENERATIONS.values():
        advice[rules.no_jwt] = "no JWT was sent; pass auth=iyo_auth or use iyo_cockpit"
        advice[rules.expired] = "the JWT expired and was not renewed; run %iyo_token --fresh"
        advice[rules.bad_audience] = (
            "the JWT's aud does not name the Cockpit's organization; ask for it with --aud ORG (or drop --aud)"
        )
        advice[rules.bad_issuer] = "the JWT was not issued by ItsYou.online"
        advice[rules.bad_signature] = "the Cockpit trusts another ItsYou.online key; check --base-url"
    return advice


class CockpitSession(CockpitOperations, LoopbackDirectSession):
    """The Cockpit's operations as methods (``iyo_cockpit.list_jobs?``), and requests to
    ``base_url`` + path for anything else, with `IyoAuth`; errors raise `CockpitError`.

    It calls the Cockpit only: a path or an absolute URL that leaves ``base_url`` (its dot
    segments, encoded ones too, resolved) is refused, and a redirect out of it gets no JWT, so the
    JWT never goes elsewhere (use plain ``requests`` for other servers).
    """

    def __init__(
        self, base_url: str, auth: IyoAuth, timeout: float = DEFAULT_TIMEOUT, ca_bundle: str | None = None
    ) -> None:
        super().__init__()
        if ca_bundle:
            self.verify = ca_bundle
        self.base_url = check_url(base_url, "Cockpit URL")
        self.auth = auth
        self.timeout = timeout
        self.headers["Accept"] = "application/json"

    def __repr__(self) -> str:
        jwt = self._iyo_jwt()
        if jwt is not None:
            return f"<CockpitSession {self.base_url} as {jwt.identity}>"
        # Only the kind of a replaced auth: a (user, password) tuple is a credential.
        auth = "no auth" if self.auth is None else f"{type(self.auth).__name__} auth, not iyo_auth"
        return f"<CockpitSession {self.base_url} with {auth}>"

    def _iyo_jwt(self) -> JWT | None:
        """The JWT this session sends; None once its ``.auth`` is not an `IyoAuth` (a requests
        session's ``.auth`` is anyone's to replace)."""
        return self.auth.jwt if isinstance(self.auth, IyoAuth) else None

    def url_for(self, path: str) -> str:
        """``base_url`` + ``path``, or an absolute URL under ``base_url``, with its dot segments
        (encoded ones too) resolved; one that leaves ``base_url`` is refused."""
        url = path if "://" in path or path.startswith("//") else f"{self.base_url}/{path.lstrip('/')}"
        parts = parsed(url, "the address given to iyo_cockpit")
        if origin(url) != origin(self.base_url) or not is_under(parts.path, urlsplit(self.base_url).path):
            raise CockpitError(
                f"iyo_cockpit calls only the Cockpit at {self.base_url}: give a path such as "
                "/ays/repository, with no .. that leaves it (the JWT is not sent elsewhere; use "
                "requests for other servers)",
                None,
            )
        return urlunsplit(parts._replace(path=resolved(parts.path)))

    def should_strip_auth(self, old_url: str, new_url: str) -> bool:
        """A redirect keeps the JWT only to the Cockpit itself (requests keeps it for the same host)."""
        try:
            self.url_for(new_url)
        except CockpitError:
            return True
        return super().should_strip_auth(old_url, new_url)

    def request(self, method, url, *args, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        target = self.url_for(url)
        try:
            response = super().request(method, target, *args, **kwargs)
        except requests.RequestException as exc:
            raise CockpitError(self._not_answered(exc), None) from None
        except KeyboardInterrupt:  # the stop button: requests' frames hold the JWT in their headers
            raise KeyboardInterrupt from None
        if response.status_code >= 400:
            body = first_line(without_credentials(response.text, response.request))
            raise CockpitError(self.explain(response), response.status_code, body)
        return response

    def _not_answered(self, exc: requests.RequestException) -> str:
        """Why a request got no answer: the request's own fault (a header, the body), or the Cockpit's."""
        host, name = urlsplit(self.base_url).netloc, type(exc).__name__
        if isinstance(exc, (requests.exceptions.InvalidHeader, requests.exceptions.InvalidJSONError)):
            return f"request to the Cockpit at {host} not sent: a header or the JSON body is not valid ({name})"
        if isinstance(exc, requests.exceptions.SSLError):
            kind = "its TLS certificate is not trusted (a private CA? see ca_bundle)"
        elif isinstance(exc, requests.Timeout):
            kind = "no answer in time"
        else:
            kind = "cannot reach it"
        return f"Cockpit at {host}: {kind} ({name}); is it running, and the URL right?"

    def explain(self, response: requests.Response) -> str:
        path = response.request.path_url.split("?", 1)[0] if response.request else "?"
        what = f"Cockpit answered {response.status_code} to {response.request.method} {path}"
        body = first_line(without_credentials(response.text, response.request))
        if response.status_code != 401:
            try:
                answer = response.json()
                detail = answer.get("error") or body
                if answer.get("code") is not None:
                    detail = f"{detail} (code {answer['code']})"
            except (ValueError, AttributeError):
                detail = body
            return f"{what}: {first_line(without_credentials(str(detail), response.request))}"
        hint = _advice_401().get(body)
        if hint is None:
            hint = self._claims_hint()
        return f"{what} {body!r}: {hint}"

    def _claims_hint(self) -> str:
        """What a 401 most likely wants, next to what this session's JWT has."""
        from .rules import accepted_everywhere

        # A 401 does not say which generation answered: advise what passes any of them.
        wants = "it wants " + " or ".join(claim.advice for claim in accepted_everywhere())
        jwt = self._iyo_jwt()
        if jwt is None:
            return f"{wants}; this session's .auth was replaced, so its JWT is unknown here: set .auth = iyo_auth"
        has = f"globalid={jwt.globalid}" if jwt.globalid else f"username={jwt.username}"
        return f"{wants}; this JWT has {has}, scope {','.join(jwt.scope) or 'none'}"
