"""The architecture, checked on the source: `core/` is plumbing; feature packages never import each other in a circle.

In the spirit of import-linter's contracts, with the standard library only: every module under `src/agente_vendedor`
is parsed with `ast`, and every import counts, at the top of a module, inside a function or under
`if TYPE_CHECKING:` (a dependency is a dependency, even when it is paid late or only by the type checker).

- `core/` may import only `core/` (and the root package's `__version__`): it is what every feature builds on.
- The feature packages (every top-level package that is neither `core` nor a composition root, so a new package is
  checked from its first commit) form no import cycle: one package is built on the other, not both ways.
- Nothing but a composition root imports a composition root: `main.py` (the app), `cli.py` (the command line),
  `settings.py` (core's and the features' settings composed), `models.py` (the model registry) and `migrations/`
  may import anything, so importing one of them from a feature would hide a cycle through it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = "agente_vendedor"
SRC = Path(__file__).resolve().parents[1] / "src" / ROOT
CORE = "core"
COMPOSITION_ROOTS = frozenset({"main", "cli", "settings", "models", "migrations"})


@dataclass(frozen=True)
class Dependency:
    """One import statement's target, as `importer` (a module) depending on `imported` (a module or package)."""

    importer: str
    imported: str
    path: str  # as `src/agente_vendedor/x/y.py`
    line: int

    def describe(self) -> str:
        """`src/agente_vendedor/x/y.py:12 importa agente_vendedor.z.w`, for a failure message."""
        return f"{self.path}:{self.line} importa {self.imported}"


def _module_names(src: Path) -> dict[str, Path]:
    """Every module and package of the tree rooted at `src`, by dotted name."""
    modules: dict[str, Path] = {}
    for path in sorted(src.rglob("*.py")):
        parts = [src.name, *path.relative_to(src).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an `from ... import` names, relative imports included."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def collect_imports(src: Path) -> list[Dependency]:
    """Every import, anywhere in a module of `src`, of a module of the same tree."""
    modules = _module_names(src)
    found: list[Dependency] = []
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        shown = f"src/{path.relative_to(src.parent).as_posix()}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node)
                # `from agente_vendedor.rag import outbox` depends on the module `rag.outbox`, not just on `rag`.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for target in dict.fromkeys(targets):
                if target == src.name or target.startswith(src.name + "."):
                    found.append(Dependency(module, target, shown, node.lineno))
    return found


def unit(module: str) -> str | None:
    """The top-level package or module a dotted name belongs to (`rag` for `agente_vendedor.rag.service`)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def feature_packages(src: Path) -> set[str]:
    """Every top-level package that is neither `core` nor a composition root."""
    return {
        p.name
        for p in src.iterdir()
        if (p / "__init__.py").is_file() and p.name != CORE and p.name not in COMPOSITION_ROOTS
    }


def core_violations(imports: Iterable[Dependency]) -> list[Dependency]:
    """Imports from `core/` of anything outside it (the root package itself holds only `__version__`)."""
    return [i for i in imports if unit(i.importer) == CORE and unit(i.imported) not in (None, CORE)]


def composition_root_violations(imports: Iterable[Dependency]) -> list[Dependency]:
    """Imports of a composition root from a module that is not one."""
    return [
        i
        for i in imports
        if unit(i.imported) in COMPOSITION_ROOTS and unit(i.importer) not in COMPOSITION_ROOTS | {None}
    ]


def package_graph(
    imports: Iterable[Dependency], packages: Set[str], ignore: Set[tuple[str, str]] = frozenset()
) -> dict[str, dict[str, list[Dependency]]]:
    """Package -> package it imports -> the imports that make that edge, between the given packages only."""
    graph: dict[str, dict[str, list[Dependency]]] = defaultdict(lambda: defaultdict(list))
    for i in imports:
        a, b = unit(i.importer), unit(i.imported)
        if a in packages and b in packages and a != b and (i.importer, i.imported) not in ignore:
            assert a is not None and b is not None
            graph[a][b].append(i)
    return graph


def find_cycles(graph: Mapping[str, Mapping[str, object]]) -> list[tuple[list[str], list[str]]]:
    """Each group of packages that import each other (directly or through others) and one shortest cycle through it.

    `(["a", "b", "c"], ["a", "b", "c", "a"])`: the cycle starts and ends at the group's first package by name.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)

    cycles = []
    for group in groups:
        start = min(group)
        paths = [[start]]
        while paths:  # breadth first: the shortest way back to `start` inside the group
            path = paths.pop(0)
            nexts = sorted(n for n in graph.get(path[-1], {}) if n in group)
            if start in nexts:
                cycles.append((sorted(group), [*path, start]))
                break
            paths.extend([*path, n] for n in nexts if n not in path)
    return sorted(cycles)


def _cycle_report(
    cycles: list[tuple[list[str], list[str]]], graph: Mapping[str, Mapping[str, list[Dependency]]]
) -> str:
    """For each group of packages in a cycle: a cycle, then every import between two packages of the group."""
    lines = []
    for group, cycle in cycles:
        lines.append(f"Ciclo de importaciones entre {', '.join(group)}: por ejemplo {' -> '.join(cycle)}")
        for a in group:
            for b in sorted(set(graph.get(a, {})) & set(group)):
                lines.append(f"  {a} -> {b}:")
                lines.extend(f"    {i.describe()}" for i in graph[a][b])
    lines.append(
        "Rómpalo llevando lo que ambos usan al paquete que lo posee, o pasando una función desde quien los compone."
    )
    return "\n".join(lines)


def _listing(title: str, imports: Iterable[Dependency]) -> str:
    return "\n".join([title, *(f"  {i.describe()}" for i in imports)])


IMPORTS = collect_imports(SRC)
FEATURES = feature_packages(SRC)


def test_the_check_sees_the_whole_package() -> None:
    """Guard against a check that passes because it parsed nothing."""
    assert {"agente", "auth", "canales", "clientes", "productos", "rag", "ventas"} <= FEATURES
    assert any(unit(i.importer) == CORE for i in IMPORTS)
    assert any(i.importer == "agente_vendedor.main" and unit(i.imported) == "rag" for i in IMPORTS)


def test_core_imports_no_feature() -> None:
    """`core/` is plumbing: it never imports a feature package, nor the modules that compose them."""
    violations = core_violations(IMPORTS)
    if violations:
        pytest.fail(_listing("core/ importa fuera de core/ (solo puede importar core/):", violations), pytrace=False)


def test_no_import_cycle_between_feature_packages() -> None:
    """A feature package is built on another, or the other on it, never both (directly or through others)."""
    graph = package_graph(IMPORTS, FEATURES)
    cycles = find_cycles(graph)
    if cycles:
        pytest.fail(_cycle_report(cycles, graph), pytrace=False)


def test_only_composition_roots_import_composition_roots() -> None:
    """main, cli, settings, models and migrations import everything: a feature importing one closes a cycle."""
    violations = composition_root_violations(IMPORTS)
    if violations:
        roots = ", ".join(sorted(COMPOSITION_ROOTS))
        pytest.fail(
            _listing(f"Solo las raíces de composición ({roots}) pueden importarlas:", violations), pytrace=False
        )


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """On a small made-up tree: a core module importing a feature, and a cycle through three packages."""
    src = tmp_path / ROOT
    files = {
        "__init__.py": "",
        "main.py": "from agente_vendedor.a import service\n",
        "core/__init__.py": "",
        "core/db.py": "def f() -> None:\n    from agente_vendedor.a.models import X\n",
        "a/__init__.py": "",
        "a/models.py": "import typing\nif typing.TYPE_CHECKING:\n    from agente_vendedor.b import service\n",
        "a/service.py": "from . import models\nfrom agente_vendedor import main\n",
        "b/__init__.py": "",
        "b/service.py": "from ..c import service\n",
        "c/__init__.py": "",
        "c/service.py": "import agente_vendedor.a.models\n",
        "d/__init__.py": "",
        "d/service.py": "from agente_vendedor.a import service\n",
    }
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    imports = collect_imports(src)
    packages = feature_packages(src)

    assert packages == {"a", "b", "c", "d"}
    assert [(i.importer, i.imported, i.line) for i in core_violations(imports)] == [
        ("agente_vendedor.core.db", "agente_vendedor.a.models", 2)
    ]
    assert [(i.importer, i.imported) for i in composition_root_violations(imports)] == [
        ("agente_vendedor.a.service", "agente_vendedor.main")
    ]
    graph = package_graph(imports, packages)
    assert find_cycles(graph) == [(["a", "b", "c"], ["a", "b", "c", "a"])]
    report = _cycle_report(find_cycles(graph), graph)
    assert "Ciclo de importaciones entre a, b, c: por ejemplo a -> b -> c -> a" in report
    assert "src/agente_vendedor/b/service.py:1 importa agente_vendedor.c.service" in report
    without_b_to_c = package_graph(
        imports, packages, ignore={("agente_vendedor.b.service", "agente_vendedor.c.service")}
    )
    assert find_cycles(without_b_to_c) == []
