"""The one module that talks HTTP: timeouts, HTTPS-or-loopback, and one-line errors.

Secrets only ever travel in POST bodies or headers; this module refuses to send over plain
``http://`` to anything but a loopback address, and turns every failure into a `TransportError`
or an `OAuthError` whose message says what to do, never what was sent.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import requests
import urllib3

from ..errors import OAuthError, TransportError
from ..settings import DEFAULT_TIMEOUT
from ..tokens import JWT_SHAPE
from .url_policy import check_url, is_loopback_host


class LoopbackDirectSession(requests.Session):
    """A `requests.Session` that never sends a request for a loopback address through a proxy.

    Plain http is allowed to loopback only; a proxy (``HTTP_PROXY``, ``ALL_PROXY``) would carry
    such a request, secrets and all, in the clear to another process or host. Requests to other
    hosts are https and may use the configured proxies.
    """

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if is_loopback_host(urlsplit(url).hostname):
            settings["proxies"] = {}
        return settings

    def rebuild_proxies(self, prepared_request, proxies):
        if is_loopback_host(urlsplit(prepared_request.url).hostname):
            return {}
        return super().rebuild_proxies(prepared_request, proxies)


def without_credentials(text: str, request: requests.PreparedRequest | None) -> str:
    """``text`` (a server's answer) without anything the request sent as a credential (the
    secret, the code, the Authorization value), URL-encoded or not, nor anything shaped like a JWT."""
    return re.sub(JWT_SHAPE, "<removed>", _without_what_was_sent(text, request))


def first_line(text: str, limit: int = 120) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Transport:
    """A `requests.Session` with a timeout, the URL policy and error mapping."""

    def __init__(
        self, timeout: float = DEFAULT_TIMEOUT, ca_bundle: str | None = None, session: requests.Session | None = None
    ) -> None:
        self.timeout = timeout
        #: A CA bundle file to trust instead of the default (which honours REQUESTS_CA_BUNDLE).
        self.ca_bundle = ca_bundle
        self.session = session if session is not None else LoopbackDirectSession()

    def __repr__(self) -> str:
        return f"Transport(timeout={self.timeout!r}, ca_bundle={self.ca_bundle!r}, session={self.session!r})"

    def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        data: dict | None = None,
        params: dict | None = None,
        headers: dict | None = None,
        auth: tuple[str, str] | None = None,
    ) -> requests.Response:
        """Send one request and read its whole answer within ``timeout`` seconds and
        `MAX_ANSWER_BYTES`; connection-level failures become `TransportError`."""
        check_url(url)
        host = urlsplit(url).netloc
        deadline = time.monotonic() + self.timeout
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                auth=auth,
                timeout=self.timeout,
                allow_redirects=False,
                verify=self.ca_bundle or None,
                stream=True,
            )
            with response:
                response._content = _whole_body(response, deadline, what, host)  # as requests' own .content
            return response
        except requests.exceptions.SSLError:
            raise TransportError(
                f"{what}: the TLS certificate of {host} is not trusted; if it uses a private CA, "
                "set {setting:ca_bundle} (or REQUESTS_CA_BUNDLE) to the CA file"
            ) from None
        except (requests.exceptions.Timeout, _PastDeadline):
            raise TransportError(
                f"{what}: no answer from {host} within {self.timeout:g} s; check the URL or raise {{setting:timeout}}"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _name_does_not_resolve(exc):
                name = urlsplit(url).hostname
                raise TransportError(f"{what}: the host name {name} does not resolve; check the URL") from None
            raise TransportError(f"{what}: cannot reach {host}; is the server running and the URL right?") from None
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransportError(f"{what}: request to {host} failed ({type(exc).__name__})") from None

    def expect(
        self, response: requests.Response, *, what: str, explain: dict[int, str] | None = None
    ) -> requests.Response:
        """Raise `OAuthError` unless the answer is 2xx; ``explain`` maps statuses to advice."""
        if 200 <= response.status_code < 300:
            return response
        body = first_line(without_credentials(response.text, response.request))
        advice = (explain or {}).get(response.status_code)
        if advice is None:
            if response.status_code >= 500:
                advice = "the server failed; try again later"
            elif 300 <= response.status_code < 400:
                location = _without_what_was_sent(response.headers.get("Location", "?"), response.request)
                advice = f"unexpected redirect to {location}; check the URL"
            else:
                advice = "check the options of this call"
        shown = f" {body!r}" if body and not _looks_like_html(response) else ""
        raise OAuthError(
            f"{what}: HTTP {response.status_code}{shown}: {advice}",
            status=response.status_code,
            body=body,
        )

    def json(self, response: requests.Response, *, what: str) -> dict:
        """The JSON object of a 2xx answer, or an `OAuthError` that says what came instead."""
        if _looks_like_html(response):
            raise OAuthError(
                f"{what}: got an HTML page where JSON was expected; is the base URL the "
                "ItsYou.online server (e.g. https://itsyou.online)?",
                status=response.status_code,
            )
        try:
            body = response.json()
        except ValueError:
            kind = "an empty body" if not response.content else "a body that is not valid JSON"
            raise OAuthError(f"{what}: got {kind} where JSON was expected", status=response.status_code) from None
        if not isinstance(body, dict):
            raise OAuthError(f"{what}: the JSON answer is not an object", status=response.status_code)
        return body

    def text(self, response: requests.Response, *, what: str) -> str:
        """The body of a 2xx answer that must be a compact JWT."""
        if _looks_like_html(response):
            raise OAuthError(
                f"{what}: got an HTML page where a JWT was expected; check the base URL",
                status=response.status_code,
            )
        # A compact JWT is ASCII: no guessing of the body's character set (requests' is slow).
        text = response.content.decode("ascii", "replace").strip()
        if not text:
            raise OAuthError(f"{what}: got an empty body where a JWT was expected", status=response.status_code)
        return text


#: The most a token or JWT answer may hold; a bigger one is not from ItsYou.online.
MAX_ANSWER_BYTES = 1024 * 1024


class _PastDeadline(Exception):
    """The answer did not arrive whole before the request's deadline."""


def _whole_body(response: requests.Response, deadline: float, what: str, host: str) -> bytes:
    """Read the body in pieces as they arrive, so a trickling server meets the deadline and a
    huge one the size cap (requests alone bounds each read, not the whole answer)."""
    raw = response.raw
    read = getattr(raw, "read1", None) or (lambda amount, **options: raw.read(min(amount, 1024), **options))
    pieces: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise _PastDeadline
        piece = read(64 * 1024, decode_content=True)
        if not piece:
            return b"".join(pieces)
        size += len(piece)
        if size > MAX_ANSWER_BYTES:
            raise OAuthError(
                f"{what}: the answer from {host} is larger than {MAX_ANSWER_BYTES // 1024} KiB; "
                "is the base URL an ItsYou.online server?",
                status=response.status_code,
            )
        pieces.append(piece)


def _without_what_was_sent(text: str, request: requests.PreparedRequest | None) -> str:
    """A server may echo what it was sent: the secret, code or token never comes back in a message."""
    # A body (or header) given as bytes is read as text; a streamed body (a file, a generator) is
    # not read at all: it is spent, and it is never a form this package sent.
    body = _as_text(request.body) if request is not None else ""
    sent = [value for key, value in parse_qsl(body) if key in ("client_secret", "code")]
    if request is not None:
        sent.append(_as_text(request.headers.get("Authorization")).rpartition(" ")[2])
    for value in filter(None, sent):
        for form in {value, quote(value, safe=""), quote_plus(value)}:  # as sent, and URL-encoded
            text = text.replace(form, "<removed>")
    return text


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else ""


def _name_does_not_resolve(exc: Exception) -> bool:
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return type(reason).__name__ == "NameResolutionError"


def clock_offset(response: requests.Response) -> float:
    """How far the server's clock (its Date header) is ahead of ours; 0 when within 10 s."""
    from email.utils import parsedate_to_datetime

    try:
        offset = parsedate_to_datetime(response.headers["Date"]).timestamp() - time.time()
    except (KeyError, TypeError, ValueError):
        return 0.0
    return float(round(offset)) if abs(offset) >= 10 else 0.0


def _looks_like_html(response: requests.Response) -> bool:
    kind = response.headers.get("Content-Type", "")
    return "html" in kind.lower() or response.content.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
