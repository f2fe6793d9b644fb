"""The package's shape: no import circle between its modules (imports inside functions count;
imports under ``if TYPE_CHECKING:`` do not, as they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "iyo_magic"


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


#: The layers, lowest first (docs/architecture.md). A module may import its own layer's modules
#: and those of lower layers, never a higher one; imports under TYPE_CHECKING count too.
LAYERS = [
    ("values", {"errors", "durations", "settings", "dirs", "tokens", "leaks"}),
    ("oauth", {"oauth"}),
    ("auth", {"auth"}),
    ("browser", {"browser"}),
    ("cockpit", {"cockpit"}),
    ("remember", {"remember"}),
    ("the use case", {"login_flow"}),
    ("notebook", {"notebook"}),
]
#: Beside the layers: they may import any layer below the use case, and nothing imports them.
SIDE = {"jupyter", "server", "hub"}
#: The one upward import: the token values' rich display (`_repr_html_`).
ALLOWED_UPWARD = {("iyo_magic.tokens", "iyo_magic.notebook.card")}
#: Layers of one rank may not import each other either (browser and cockpit know nothing of each other).
PEERS = {"browser": 3, "cockpit": 3}


def part(module: str) -> str:
    """The layer's name part of a module: ``iyo_magic.oauth.protocol`` -> ``oauth``."""
    return module.split(".")[1] if module.count(".") else ""


def rank(module: str) -> float:
    name = part(module)
    if name in SIDE:
        return len(LAYERS) - 2.5  # above remember, below the use case
    for index, (_, parts) in enumerate(LAYERS):
        if name in parts:
            return PEERS.get(name, index)
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and docs/architecture.md")


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """The imports of ``graph`` that break the layer rule."""
    wrong = []
    for source, targets in graph.items():
        if source == "iyo_magic":  # the package's face: lazy names from every layer
            continue
        for target in targets:
            same_layer = part(source) == part(target) or {part(source), part(target)} <= LAYERS[0][1]
            if same_layer or (source, target) in ALLOWED_UPWARD:
                continue
            if part(target) in SIDE or rank(target) >= rank(source):
                wrong.append(f"{source} -> {target}")
    return wrong


def test_every_import_goes_down_the_layers():
    graph = import_graph(type_checking=True)
    assert sum(len(targets) for targets in graph.values()) > 100  # the reader really found the imports
    assert upward_imports(graph) == []


def test_the_layer_rule_catches_what_goes_up_or_sideways():
    graph = {
        "iyo_magic.oauth.protocol": {"iyo_magic.notebook.magic", "iyo_magic.errors"},
        "iyo_magic.browser.step": {"iyo_magic.cockpit.session"},
        "iyo_magic.login_flow": {"iyo_magic.server.ays", "iyo_magic.remember.store"},
        "iyo_magic.server.cli": {"iyo_magic.cockpit.rules"},
    }
    assert upward_imports(graph) == [
        "iyo_magic.oauth.protocol -> iyo_magic.notebook.magic",
        "iyo_magic.browser.step -> iyo_magic.cockpit.session",
        "iyo_magic.login_flow -> iyo_magic.server.ays",
    ]
