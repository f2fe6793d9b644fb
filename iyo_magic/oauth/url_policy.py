"""The URL policy, without any HTTP library: https anywhere, plain http to loopback only, and
the origin a credential is meant for; a URL urllib cannot read is a `ConfigError` naming the setting.

`transport` (requests), `cockpit`, the redirect listener, the server extension and the demo
user all judge URLs by these functions; none of them needs ``requests`` for it.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from ..errors import ConfigError


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    import ipaddress  # only for a host that is not a name: an https URL never needs it

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: What urllib's ValueError says, and what it means in the words of a message.
_UNREADABLE = [
    ("Invalid IPv6 URL", "its [ and ] do not match"),
    ("does not appear to be an IPv4 or IPv6", "its host in [ ] is not an IP address"),
    ("Port", "its port is not a number from 0 to 65535"),
    ("NFKC", "its host holds characters that are not allowed"),
]


def _authority(url: str) -> str:
    """The scheme and authority of ``url`` as written (up to the path, query or fragment)."""
    _, slashes, rest = url.partition("//")
    if not slashes:
        return url.split("/", 1)[0]
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    return url[: len(url) - len(rest) + end]


def parsed(url: str, what: str = "URL") -> SplitResult:
    """``url``'s parts, or a `ConfigError` that names ``what`` when urllib cannot read them (an
    unclosed ``[`` of an IPv6 host, a port that is no number from 0 to 65535). The message shows
    no part of the URL: one that cannot be read cannot be told apart from its password."""
    if "\\" in url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in _authority(url.strip())):
        # urllib and urllib3 (and browsers) disagree on where such a host ends: one would judge
        # a host that the other connects to (https://evil.example\.itsyou.online)
        raise ConfigError(
            f"{what} is not a valid URL: it holds a backslash, or a space or control character in its host"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - urllib reads the port only when asked
        if "[" in parts.netloc:  # Python 3.11 checks that it is an IP address; older ones do not
            import ipaddress

            ipaddress.ip_address(parts.hostname or "")
    except ValueError as exc:
        reason = next((words for found, words in _UNREADABLE if found in str(exc)), "urllib cannot read it")
        raise ConfigError(f"{what} is not a valid URL: {reason}") from None
    return parts


def check_url(url: str, what: str = "URL") -> str:
    """Accept https anywhere and http on loopback only; return the URL without a trailing slash.

    Messages show the URL only when it is one, and never its user:password part.
    """
    url = (url or "").strip()
    parts = parsed(url, what)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = f" {parts.scheme}://…" if "://" in (url or "") and parts.scheme.isalpha() else ""
        raise ConfigError(f"{what}{shown} is not an http(s) URL (e.g. https://itsyou.online)")
    if parts.username or parts.password:
        raise ConfigError(f"{what} must not hold a user name or password ({parts.scheme}://{parts.hostname}…)")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{what} http://{parts.netloc} uses plain http to a non-loopback host; use https:// "
            "(plain http is allowed only for 127.0.0.1/localhost)"
        )
    return url.rstrip("/")


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the unit a credential is meant for."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port
