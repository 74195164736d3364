"""The rooms of ``screening`` keep to the imports their own docstrings allow.

Every room (a package, or a module standing alone in ``screening/``) says in its docstring
what it may import: "It may import ``screening.a``, ``screening.b`` …" or "It imports nothing
else of ``screening``". This test reads those sentences and the code's imports, and fails on an
import a room does not allow, on a room that states no rule, and on any circle of imports
between modules. The app factory (``screening/__init__.py``) assembles everything and is the
only module exempt.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import screening

PACKAGE_DIR = Path(screening.__file__).parent
RULE = re.compile(r"It (may import|imports nothing else of ``screening``)(.*?)(\.\s|\.$|:)", re.S)
NAMED = re.compile(r"``screening\.([a-z_]+)")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room_of(module: str) -> str | None:
    """``screening.intake.views`` → ``intake``; the factory (``screening``) has none."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def room_docstring(room: str) -> str:
    package = PACKAGE_DIR / room / "__init__.py"
    path = package if package.exists() else PACKAGE_DIR / f"{room}.py"
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def allowed(room: str) -> set[str]:
    """The rooms ``room`` may import, from its docstring; fails when it states no rule."""
    found = RULE.search(room_docstring(room))
    assert found, f"screening.{room} does not say what it may import"
    if found.group(1).startswith("imports nothing"):
        return set()
    return set(NAMED.findall(found.group(2)))


def imports_of(path: Path) -> set[str]:
    """The ``screening`` modules that the file at ``path`` imports (TYPE_CHECKING included)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("screening")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("screening"):
                continue
            # ``from . import x`` names modules; ``from .x import y`` names names in x.
            candidates = [f"{target}.{a.name}" for a in node.names]
            modules = [c for c in candidates if _is_module(c)]
            found |= set(modules) if modules else {target}
    return found


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE_DIR / relative).with_suffix(".py").exists() or (
        PACKAGE_DIR / relative / "__init__.py"
    ).exists()


SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))
GRAPH = {module_name(path): imports_of(path) for path in SOURCES}
ROOMS = sorted({room for module in GRAPH if (room := room_of(module))})


def test_every_room_states_what_it_may_import():
    for room in ROOMS:
        allowed(room)


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_what_it_allows(room):
    permitted = allowed(room) | {room}
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if room_of(module) == room
        for target in targets
        if room_of(target) not in permitted
    )
    assert not wrong, wrong


def test_no_room_allows_a_room_that_allows_it_back():
    """Rooms stand in layers: no two allow each other, directly or round a longer loop."""
    edges = {room: allowed(room) for room in ROOMS}
    assert not _circles(edges), _circles(edges)


def test_no_module_imports_round_in_a_circle():
    edges = {module: {t for t in targets if t in GRAPH} for module, targets in GRAPH.items()}
    assert not _circles(edges), _circles(edges)


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk (empty when the graph has none)."""
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                found.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_check_sees_a_forbidden_import(tmp_path):
    """The reader of imports finds relative imports two levels up (what a violation uses)."""
    views = PACKAGE_DIR / "intake" / "views.py"
    assert "screening.web.clientaddr" in imports_of(views)
    assert not any(target.startswith("screening.clinician") for target in imports_of(views))
    assert room_of("screening.clinician.views") == "clinician"
    assert "staff" not in allowed("intake")
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _circles({"a": {"b"}, "b": set()}) == []
