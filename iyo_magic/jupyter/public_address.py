"""The address browsers use for this Jupyter server: where the Authorization Code flow sends the
browser back (``{origin}{base_url}iyo/callback?``), so nobody but the server's owner may choose it.

It comes from configuration first (``$IYO_PUBLIC_URL``, else JupyterHub's ``$JUPYTERHUB_PUBLIC_URL``),
otherwise from a request that its owner's browser made (its ``Host``, and the scheme of the page
it came from when that page is on the same host, as behind a proxy that ends TLS). ``X-Forwarded-Host`` and
``X-Forwarded-Proto`` count only on a connection from a proxy named in ``$IYO_TRUSTED_PROXIES``
(comma-separated IP addresses), and then only the last value (the one that proxy added). Only a
bare ``host[:port]`` is ever taken.
"""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from tornado.iostream import SSLIOStream

from ..settings import PUBLIC_URL_ENV, TRUSTED_PROXIES_ENV

#: A host name or an IPv4 address, or an IPv6 address in brackets; then an optional port.
_HOST = re.compile(
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?))(?::(?P<port>[0-9]{1,5}))?"
)
CONFIGURED, BROWSER = "configured", "browser"


def bare_origin(scheme: str, host: str) -> str:
    """``scheme://host`` when ``host`` is a bare ``host[:port]`` and the scheme http(s); else ""."""
    found = _HOST.fullmatch(host)
    if scheme not in ("http", "https") or found is None:
        return ""
    if found["port"] is not None and not 0 < int(found["port"]) < 65536:
        return ""
    if found["ipv6"] is not None:
        try:
            ipaddress.IPv6Address(found["ipv6"])
        except ValueError:
            return ""
    return f"{scheme}://{host.lower()}"


def configured_origin() -> str:
    """The origin of ``$IYO_PUBLIC_URL``, else of ``$JUPYTERHUB_PUBLIC_URL``; "" when neither is a
    usable http(s) URL."""
    for variable in (PUBLIC_URL_ENV, "JUPYTERHUB_PUBLIC_URL"):
        url = os.environ.get(variable, "").strip()
        if url:
            parts = urlsplit(url)
            return bare_origin(parts.scheme, parts.netloc)
    return ""


def trusted_proxies() -> frozenset[str]:
    return frozenset(ip.strip() for ip in os.environ.get(TRUSTED_PROXIES_ENV, "").split(",") if ip.strip())


def request_origin(request, proxies: frozenset[str]) -> str:
    """The origin ``request`` was made to, as its browser saw it; "" when it is no bare origin.

    The connection's own peer and TLS decide, not what tornado's ``xheaders`` made of the
    headers (JupyterHub's single-user server turns those on)."""
    connection = request.connection
    address = getattr(getattr(connection, "context", None), "address", None)
    peer = address[0] if isinstance(address, tuple) else request.remote_ip
    scheme = "https" if isinstance(getattr(connection, "stream", None), SSLIOStream) else "http"
    host = request.headers.get("Host", "")
    if peer in proxies:  # what the proxy added, when it added anything (an empty value is refused)
        scheme = _last_hop(request.headers.get("X-Forwarded-Proto"), scheme)
        host = _last_hop(request.headers.get("X-Forwarded-Host"), host)
    else:  # behind a proxy that ends TLS, the page the browser is on says https
        page = urlsplit(request.headers.get("Referer", ""))
        if page.scheme in ("http", "https") and page.netloc.lower() == host.lower():
            scheme = page.scheme
    return bare_origin(scheme.lower(), host)


def _last_hop(value: str | None, otherwise: str) -> str:
    return otherwise if value is None else value.split(",")[-1].strip()
