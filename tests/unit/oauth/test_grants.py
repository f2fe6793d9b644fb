"""`iyo_magic.oauth.grants`: one table, the only place a flow's name is compared (what each
grant does over real HTTP is in ``tests/test_grants.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

from iyo_magic.oauth.grants import GRANTS, grant

PACKAGE = Path(__file__).resolve().parents[3] / "iyo_magic"


def flow_comparisons(path: Path) -> list[str]:
    """The comparisons in ``path`` that involve a flow (a name or attribute called ``*flow*``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            named = [
                sub
                for operand in (node.left, *node.comparators)
                for sub in ast.walk(operand)
                if "flow" in (getattr(sub, "id", "") or getattr(sub, "attr", "")).lower()
            ]
            if named:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_flow_is_compared_outside_the_grant_table():
    """The client's modules read a grant's facts; the stand-ins (server/) are the other side."""
    paths = [p for p in sorted(PACKAGE.rglob("*.py")) if "server" not in p.parts and p.name != "grants.py"]
    assert len(paths) > 20
    assert [found for path in paths for found in flow_comparisons(path)] == []


def test_the_comparison_reader_finds_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("if request.flow == X or canonical_flow(f) != Y or flow in Z:\n    pass\n")
    assert [found.split(": ", 1)[1] for found in flow_comparisons(sample)] == [
        "request.flow == X",
        "canonical_flow(f) != Y",
        "flow in Z",
    ]
    sample.write_text("if grant(request.flow).needs_user:\n    pass\n")
    assert flow_comparisons(sample) == []


def test_a_grant_is_found_by_any_of_its_names():
    for each in GRANTS:
        assert all(grant(name) is each for name in each.names)
