"""`iyo_magic.oauth.url_policy`: https anywhere, plain http to loopback only, never a password in a URL."""

from __future__ import annotations

import pytest

from iyo_magic.errors import ConfigError
from iyo_magic.oauth.url_policy import check_url, is_loopback_host, origin, parsed


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("LocalHost", True)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize("host", ["", None, "itsyou.online", "10.0.0.1", "localhost.invalid", "0.0.0.0"])
def test_other_hosts_are_not_loopback(host):
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("url", "checked"),
    [
        ("https://itsyou.online/", "https://itsyou.online"),
        ("  http://127.0.0.1:8977/api/ ", "http://127.0.0.1:8977/api"),
        ("http://localhost:8888", "http://localhost:8888"),
    ],
)
def test_accepted_urls_lose_their_trailing_slash(url, checked):
    assert check_url(url) == checked


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://itsyou.invalid", "uses plain http to a non-loopback host"),
        ("ftp://itsyou.invalid", "ftp://… is not an http(s) URL"),
        ("itsyou.online", "is not an http(s) URL"),
        ("https://alice:hunter2@itsyou.invalid", "must not hold a user name or password"),
    ],
)
def test_refused_urls_say_why_in_one_line_without_a_password(url, says):
    with pytest.raises(ConfigError, match="^base URL") as refused:
        check_url(url, "base URL")
    assert says in str(refused.value) and "hunter2" not in str(refused.value) and "\n" not in str(refused.value)


def test_an_origin_is_scheme_host_and_port():
    assert origin("https://Cockpit.invalid/api") == ("https", "cockpit.invalid", 443)
    assert origin("http://127.0.0.1:8978/api/x") == ("http", "127.0.0.1", 8978)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://[::1", "its [ and ] do not match"),
        ("http://]::1/", "its [ and ] do not match"),
        ("https://[itsyou.online]/", "its host in [ ] is not an IP address"),
        ("http://127.0.0.1:99999", "its port is not a number from 0 to 65535"),
        ("http://127.0.0.1:hunter2/", "its port is not a number from 0 to 65535"),
    ],
)
def test_a_url_urllib_cannot_read_is_one_line_naming_the_setting_and_showing_none_of_it(url, says):
    with pytest.raises(ConfigError) as refused:
        check_url(url, "base URL")
    assert str(refused.value) == f"base URL is not a valid URL: {says}"
    with pytest.raises(ConfigError, match=r"^redirect URI is not a valid URL"):
        parsed(url, "redirect URI")
