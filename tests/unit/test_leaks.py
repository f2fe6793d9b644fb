"""iyo_magic/leaks.py: which JWTs count as ItsYou.online's, the marker, and the parts of a notebook."""

from __future__ import annotations

import base64
import json
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from iyo_magic import leaks

KEY = ec.generate_private_key(ec.SECP384R1())
SECRET = "client-Secret-Leaks-42"


def issued(**claims) -> str:
    """A JWT signed as ItsYou.online signs: ES384 with a P-384 key, ``iss`` itsyouonline."""
    return pyjwt.encode({"iss": "itsyouonline", "exp": int(time.time()) + 3600, **claims}, KEY, algorithm="ES384")


def test_an_issued_jwt_is_found_and_masked_with_whose_it_was():
    token = issued(username="alice")
    text, removed = leaks.mask(f"curl -H 'Authorization: bearer {token}' …")
    assert removed == ["JWT"] and token not in text
    assert "«JWT removed by iyo_magic: username alice, expires " in text and " UTC»" in text
    assert leaks.find(f"a\n{token} and {token}") == [(2, "JWT"), (2 + len(token) + 5, "JWT")]


@pytest.mark.parametrize(
    "token",
    [
        pyjwt.encode({"iss": "itsyouonline"}, "k" * 32, algorithm="HS256"),  # not ES384
        pyjwt.encode({"iss": "someone-else"}, KEY, algorithm="ES384"),
        "eyJub3QiOiJqc29uIn0.eyJub3Q.eA",  # the shape, but no claims
    ],
    ids=["hs256", "other-issuer", "not-json"],
)
def test_other_jwts_are_left_alone(token):
    assert leaks.find(token) == [] and leaks.mask(token) == (token, [])


def test_the_marker_holds_no_part_of_the_token_and_no_markup_from_its_claims():
    token = issued(globalid="<script>alert(1)</script>org", refresh_token="refresh-Leaks-7")
    text, _ = leaks.mask(token)
    assert text.startswith("«JWT removed by iyo_magic: globalid scriptalert1scriptorg, expires ")
    assert all(part not in text for part in token.split(".")) and "refresh-Leaks-7" not in text
    assert leaks.marker({"exp": "soon"}) == "«JWT removed by iyo_magic: no expiry»"


def test_a_secret_is_found_and_masked_and_a_short_one_is_not_searched_for():
    assert leaks.find(f"x={SECRET};y={SECRET}", [SECRET]) == [(2, leaks.SECRET_KIND), (27, leaks.SECRET_KIND)]
    assert leaks.mask(f"x={SECRET}", [SECRET]) == ("x=«client secret removed by iyo_magic»", [leaks.SECRET_KIND])
    assert leaks.usable_secrets([None, "", "short", SECRET]) == [SECRET]


def test_every_string_of_a_notebook_part_is_a_slot_one_can_replace():
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["a\n", "b"], "metadata": {}, "outputs": [{"text": "c", "n": 1}]},
            "not a cell",
            {"cell_type": "markdown", "source": "d", "metadata": {"tags": ["e"]}, "attachments": {"x": {"y": "f"}}},
        ],
        "metadata": {"widgets": {"state": {"w": {"value": "g"}}}, "kernelspec": {"name": "h"}},
    }
    seen = {}
    for place, holder, key in leaks.notebook_parts(notebook):
        for slot, name in (slot for group in leaks.text_groups(holder, key) for slot in group):
            seen.setdefault((place.cell, place.part), set()).add(slot[name])
            slot[name] = slot[name].upper()
    assert seen == {
        (1, "source"): {"a\n", "b"},
        (1, "output"): {"c"},
        (3, "source"): {"d"},
        (3, "attachment"): {"f"},
        (3, "cell metadata"): {"e"},
        (None, "widget state"): {"g"},
        (None, "metadata"): {"h"},
    }
    assert notebook["cells"][0]["source"] == ["A\n", "B"] and notebook["metadata"]["widgets"]["state"]["w"] == {
        "value": "G"
    }


def test_a_token_over_several_pieces_or_lines_is_masked_and_each_piece_keeps_its_place():
    token = issued(username="alice")
    half = len(token) // 2
    pieces, removed = leaks.mask_pieces(["x " + token[:half] + "\n", token[half:] + "\n", "done\n"])
    assert removed == ["JWT"] and len(pieces) == 3 and pieces[2] == "done\n"
    assert pieces[0].startswith("x «JWT removed by iyo_magic: username alice") and pieces[1] == "\n"
    text, removed = leaks.mask(f"{token[:10]}\r\n{token[10:]}\nnext line", [SECRET])
    assert removed == ["JWT"] and text.endswith("»\nnext line") and token[10:] not in text
    pieces, removed = leaks.mask_pieces([SECRET[:3], SECRET[3:9], SECRET[9:] + " ok"], [SECRET])
    assert pieces == [leaks.SECRET_MARKER, "", " ok"] and removed == [leaks.SECRET_KIND]


def test_the_text_of_consecutive_stream_outputs_is_one_group():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": ["a\n", "b"]},
        {"output_type": "stream", "name": "stdout", "text": "c"},
        {"output_type": "display_data", "data": {"text/plain": ["d\n", "e"]}, "metadata": {}},
        {"output_type": "stream", "name": "stdout", "text": "f"},
    ]
    groups = sorted("".join(slot[name] for slot, name in group) for group in leaks.text_groups({"o": outputs}, "o"))
    assert groups == ["a\nbc", "d\ne", "display_data", "f"] + ["stdout"] * 3 + ["stream"] * 3


def test_an_nbformat_3_notebook_has_its_cells_in_worksheets():
    notebook = {
        "nbformat": 3,
        "metadata": {"name": "a"},
        "worksheets": [
            {"cells": [{"cell_type": "code", "input": "b", "outputs": [{"text": "c"}], "metadata": {}}]},
            {"cells": [{"cell_type": "markdown", "source": "d"}], "metadata": {"e": "f"}},
        ],
    }
    seen = {
        (place.cell, place.part, slot[name])
        for place, holder, key in leaks.notebook_parts(notebook)
        for group in leaks.text_groups(holder, key)
        for slot, name in group
    }
    assert seen == {
        (1, "source", "b"),
        (1, "output", "c"),
        (2, "source", "d"),
        (None, "metadata", "a"),
        (None, "metadata", "f"),
    }


def test_escaped_dots_zero_width_characters_and_base64_are_seen_through():
    token = issued(username="alice")
    marker = "«JWT removed by iyo_magic: username alice, expires "
    for text in (
        token.replace(".", "&#46;"),
        token.replace(".", "&#X02e;"),
        token.replace(".", "&period;"),
        token.replace(".", "%2E"),
        json.dumps(token).replace(".", "\\u002e"),
        token.replace(".", "\\x2e"),
        token[:9] + "\u200b" + token[9:40] + "\u00ad" + token[40:],
        base64.b64encode(token.encode()).decode(),
        base64.urlsafe_b64encode(b"ab" + token.encode()).decode(),
        "text\n" + base64.b64encode(b"\x89PNG" + bytes(50_000) + token.encode() + bytes(50)).decode() + "\nafter",
    ):
        masked, removed = leaks.mask(text)
        assert removed == ["JWT"] and marker in masked and token.split(".")[2][:20] not in masked, text[:20]
    masked, _ = leaks.mask("before\n" + base64.b64encode(token.encode()).decode() + "\nafter")
    assert masked.startswith("before\n«JWT") and masked.endswith("»\nafter")  # the lines around are kept
    assert leaks.mask(base64.b64encode(b"s=" + SECRET.encode()).decode(), [SECRET])[1] == [leaks.SECRET_KIND]
    plain = base64.b64encode(bytes(range(256)) * 40).decode()  # base64 of nothing secret: left alone
    assert leaks.mask(plain + "&#46;%2E", [SECRET]) == (plain + "&#46;%2E", [])


def test_look_alikes_cost_what_the_text_costs_and_tokens_among_them_are_found():
    token, other = issued(username="alice"), issued(username="bob")
    masked, removed = leaks.mask(f"{token}\n{other}")  # one line each, glued once the break is left out
    assert removed == ["JWT", "JWT"] and "username alice" in masked and "username bob" in masked
    for flood in ("eyJ" * 400_000, ".eyJ" * 300_000, "eyJa.eyJb." * 120_000, "ZXlK" * 300_000, "ZXlK " * 240_000):
        started = time.perf_counter()
        masked, removed = leaks.mask(flood + token + flood, [SECRET])
        assert removed == ["JWT"] and time.perf_counter() - started < 5  # was minutes for the first two


def test_base64_among_many_look_alikes_is_still_decoded():
    token = issued(username="alice")
    text = "V5S " * 3000 + base64.b64encode(b"xx" + token.encode()).decode() + " ZXlK" * 3000
    masked, removed = leaks.mask(text)
    assert removed == ["JWT"] and masked.startswith("V5S V5S") and masked.endswith("ZXlK ZXlK")
