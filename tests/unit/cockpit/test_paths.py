"""`iyo_magic.cockpit.paths`: dot segments, percent-encoded any number of times, read as a server reads them."""

from __future__ import annotations

import pytest

from iyo_magic.cockpit.paths import decoded, is_under, moves_the_path, resolved


@pytest.mark.parametrize(
    "segment",
    ["", ".", "..", "%2e", "%2E%2e", ".%2e", "%252e%252E", "%25252e", "%2e.", "..%2F", "%2F", "x/../..", "a\\b", "/2"],
)
def test_segments_that_move_the_path(segment):
    assert moves_the_path(segment)


@pytest.mark.parametrize("segment", ["...", "a..", "%2e%2e%2e", "%2", "%zz", "web.yaml", "node!web1", "100%"])
def test_segments_that_do_not(segment):
    assert not moves_the_path(segment)


def test_decoding_stops_when_nothing_changes():
    assert decoded("%25252e") == "." and decoded("%zz%2") == "%zz%2" and decoded("100%") == "100%"


@pytest.mark.parametrize(
    ("path", "is_"),
    [
        ("/api/../outside", "/outside"),
        ("/api/%2e%2E/outside", "/outside"),
        ("/api/x/..", "/api/"),
        ("/api/./x/%2e/y", "/api/x/y"),
        ("/../../a", "/a"),
        ("", "/"),
        ("/api/..%2Fx", "/api/..%2Fx"),  # one segment: an encoded slash is not resolved here
    ],
)
def test_resolved(path, is_):
    assert resolved(path) == is_


@pytest.mark.parametrize(
    ("path", "under"),
    [
        ("/api/ays/repository", True),
        ("/api", True),
        ("/api/x/../ays", True),
        ("/apix", False),
        ("/api/../outside", False),
        ("/api/..%2F..%2Foutside", False),  # read fully decoded, as some servers do
        ("/api/%2e%2e%5Coutside", False),  # with \ as /
        ("/api/ays/..%2Fx", True),
    ],
)
def test_is_under(path, under):
    assert is_under(path, "/api") is under
    assert is_under(path, "/") is True
