"""No import cycles in the package, between modules or between its subpackages: every
import counts, at the top of a module, under TYPE_CHECKING or inside a function."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import fulfilment

ROOT = Path(fulfilment.__file__).parent
PACKAGE = "fulfilment"

Graph = dict[str, set[str]]

# Imports between packages that still close a cycle, each to be inverted by the change to
# its package: the engine's table of job kinds reaching into the packages whose handlers
# it runs. An edge leaves this list when its import goes (test_waiting_edges_still_exist
# says when).
WAITING_EDGES = {
    ("fulfilment.jobs", "fulfilment.hooks"),
    ("fulfilment.jobs", "fulfilment.identity"),
    ("fulfilment.jobs", "fulfilment.mail"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {module_name(path): path for path in ROOT.rglob("*.py")}


def _imported(
    node: ast.Import | ast.ImportFrom, name: str, is_package: bool, modules: set[str]
) -> Iterator[str]:
    """The modules an import statement loads (inside the package or not). A name that is
    not a module of its own comes from the package's __init__."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    for alias in node.names:
        submodule = f"{target}.{alias.name}"
        yield submodule if submodule in modules else target


def import_graph() -> Graph:
    """Module -> the package's modules it imports, and the packages above them (importing
    `a.b.c` runs `a/__init__` and `a/b/__init__` too), but for the module's own packages,
    which are loaded before it, unless it imports a name from one of them."""
    modules = _modules()
    graph: Graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        own = {".".join(name.split(".")[:depth]) for depth in range(1, name.count(".") + 2)}
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _imported(node, name, is_package, set(modules)):
                parts = target.split(".")
                for depth in range(1, len(parts) + 1):
                    prefix = ".".join(parts[:depth])
                    if prefix in modules and (prefix not in own or prefix == target):
                        edges.add(prefix)
        graph[name] = edges - {name}
    return graph


def package_graph(graph: Graph) -> Graph:
    """The same imports between the package's first-level parts (`fulfilment.customers`,
    `fulfilment.app`...), each subpackage taken as one."""

    def part(name: str) -> str:
        return ".".join(name.split(".")[:2])

    packages: Graph = {}
    for name, edges in graph.items():
        if name == PACKAGE:
            continue
        targets = packages.setdefault(part(name), set())
        targets.update(part(edge) for edge in edges if edge != PACKAGE)
    return {name: targets - {name} for name, targets in packages.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle of each strongly connected group of the graph, as a path back to its
    start; empty when there is none."""
    found: list[list[str]] = []
    remaining = {name: set(edges) for name, edges in graph.items()}
    while True:
        try:
            TopologicalSorter(remaining).prepare()
        except CycleError as error:
            cycle: list[str] = list(reversed(error.args[1]))
            found.append(cycle)
            # Break this cycle at one edge and look for others.
            remaining[cycle[0]].discard(cycle[1])
            continue
        return found


def _report(found: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_walk_sees_every_kind_of_import() -> None:
    graph = import_graph()
    # A relative import from a module, and from a package's __init__.
    assert "fulfilment.db.units" in graph["fulfilment.db.database"]
    assert "fulfilment.db.database" in graph["fulfilment.db"]
    # The client's public module imports its private ones.
    assert "fulfilment.client._sync" in graph["fulfilment.client"]
    # Packages a module imports through run their __init__ (and are edges of their own).
    assert "fulfilment.db" in graph["fulfilment.customers.service"]


def test_cycles_are_found_and_printed() -> None:
    """The check itself can fail: a made-up graph with two cycles gives both."""
    graph: Graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": set()}
    found = cycles(graph)
    assert sorted(len(cycle) for cycle in found) == [3, 4]
    for cycle in found:
        assert cycle[0] == cycle[-1]
        assert all(after in graph[before] for before, after in itertools.pairwise(cycle))


def test_no_import_cycles_between_modules() -> None:
    found = cycles(import_graph())
    assert not found, f"import cycles between modules:\n{_report(found)}"


def test_no_import_cycles_between_packages() -> None:
    graph = package_graph(import_graph())
    for importer, imported in WAITING_EDGES:
        graph[importer].discard(imported)
    found = cycles(graph)
    assert not found, f"import cycles between packages:\n{_report(found)}"


def test_waiting_edges_still_exist() -> None:
    graph = package_graph(import_graph())
    gone = {
        (importer, imported)
        for importer, imported in WAITING_EDGES
        if imported not in graph[importer]
    }
    assert not gone, f"no longer imported, remove from WAITING_EDGES: {sorted(gone)}"
