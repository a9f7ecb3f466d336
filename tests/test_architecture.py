"""The package's shape, checked (docs/architecture.md): layers, no import circle, no module
reaching into another's private names.

Every import counts: top-level ones, those under ``if TYPE_CHECKING:``, those inside functions,
and ``importlib.import_module`` with a literal name (the package's lazy ``__getattr__`` table
too). A circle between two modules, or between two subpackages, fails; so does an import from a
higher layer, and any import between ``_ipython`` and ``_widget``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "nbclaude"

#: The layers, lowest first. A unit may import units of its own layer's lower layers only,
#: plus the same-layer imports in SIDEWAYS.
LAYERS: list[set[str]] = [
    {"_exceptions", "_types", "_version"},
    {"_api"},
    {"_client", "_content", "_schema"},
    {"_tools", "_markdown", "testing"},
    {"_session"},
    {"_ipython", "_widget"},
    {"_legacy"},
    {"__init__"},
]
#: Same-layer imports that are allowed (none: a unit that needs another of its layer belongs
#: above it).
SIDEWAYS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    if not level:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _targets(name: str, path: Path) -> Iterable[str]:
    """Every nbclaude module ``name`` imports, wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(name, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if sub in MODULES else base
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets
        ):
            # The package's lazy table: public name -> the module that defines it.
            assert isinstance(node.value, ast.Dict)
            for value in node.value.values:
                assert isinstance(value, ast.Constant)
                yield f"{name}.{value.value}"


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        found = set()
        for target in _targets(name, path):
            # "import nbclaude._api.models" names its parents too; keep the deepest module.
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("nbclaude") and target != name:
                found.add(target)
        edges[name] = found
    return edges


def unit(module: str) -> str:
    """The top-level part of the package a module belongs to (``_session``, ``testing``,
    ``__init__`` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(u: str) -> int:
    for i, units in enumerate(LAYERS):
        if u in units:
            return i
    raise AssertionError(f"nbclaude.{u} is in no layer: add it to LAYERS and the docs")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_every_kind_of_import() -> None:
    edges = graph()
    assert "nbclaude._session.session" in edges["nbclaude"]  # the lazy table
    assert len(MODULES) > 50


def test_no_circle_between_modules() -> None:
    assert cycles(graph()) == []


def test_no_circle_between_subpackages() -> None:
    edges: dict[str, set[str]] = {}
    for source, targets in graph().items():
        edges.setdefault(unit(source), set()).update(unit(t) for t in targets)
    for u, targets in edges.items():
        targets.discard(u)
    assert cycles(edges) == []


def test_imports_go_downward_only() -> None:
    wrong = []
    for source, targets in graph().items():
        for target in targets:
            a, b = unit(source), unit(target)
            if a == b or (a, b) in SIDEWAYS:
                continue
            if layer(b) >= layer(a):
                wrong.append(f"{source} -> {target}")
    assert wrong == []


@pytest.mark.parametrize(("a", "b"), [("_ipython", "_widget"), ("_widget", "_ipython")])
def test_magics_and_widget_never_import_each_other(a: str, b: str) -> None:
    assert not [
        (s, t) for s, targets in graph().items() for t in targets if unit(s) == a and unit(t) == b
    ]


def test_every_unit_has_a_layer() -> None:
    for module in MODULES:
        layer(unit(module))


def test_a_circle_is_found() -> None:
    """The checker itself: a made-up circle and a made-up upward import are caught."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("_session") > layer("_client")
