"""The package's shape: no import circle between its modules (imports inside functions count;
imports under ``if TYPE_CHECKING:`` do not, as they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "iyo_magic"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str], type_checking: bool = False) -> set[str]:
    """The package modules ``path`` imports, TYPE_CHECKING blocks left out (unless ``type_checking``)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING" and not type_checking:
            node.body = []
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {target for target in found if target in modules and target != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append(path[path.index(node) :] + [node])
            return
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, path + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found


def import_graph(type_checking: bool = False) -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    graph = {module_name(path): imports_of(path, modules, type_checking) for path in paths}
    # Every module imports its package's __init__ implicitly; only edges between modules count.
    return {name: {t for t in targets if t not in ("iyo_magic", "iyo_magic.server")} for name, targets in graph.items()}


def test_no_import_circle():
    graph = import_graph()
    assert sum(len(targets) for targets in graph.values()) > 40  # the reader really found the imports
    assert cycles(graph) == []


def test_no_circle_under_type_checking_but_the_token_display():
    """Under TYPE_CHECKING too, imports go one way: the values (`LoginRequest`) live below the login
    that runs them, so what keeps them (``remembered``) never names the login. One pair is allowed:
    the token values and their rich display (`card`)."""
    graph = import_graph(type_checking=True)
    assert "iyo_magic.oauth.request" in graph["iyo_magic.remember.store"]  # the reader saw the annotation import
    assert cycles(graph) == [["iyo_magic.tokens", "iyo_magic.notebook.card", "iyo_magic.tokens"]]


def test_the_reader_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
