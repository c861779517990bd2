"""The repository's package graph: each package imports only what it may, and nothing is circular.

    flowbind            the method alone: nothing else from the repository
    metrics             nothing else from the repository
    baselines           the recipes: flowbind only
    baselines.official  the released checkpoints' adapters: flowbind and the runner (bench),
                        whose tasks and generation layout they write into
    bench               the runner: flowbind and metrics; methods are named in its registry by
                        string and imported on use, so it never imports baselines itself

Every import counts, at module level or inside a function, so a lazy import cannot hide an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("flowbind", "metrics", "baselines", "bench")
OURS = (*PACKAGES, "workflow", "perf", "tests")
ALLOWED = {
    "flowbind": {"flowbind"},
    "metrics": {"metrics"},
    "baselines": {"baselines", "flowbind"},
    "baselines.official": {"baselines", "flowbind", "bench"},
    "bench": {"bench", "flowbind", "metrics"},
}
NEVER_IN_LIBRARIES = {"snakemake"}  # the workflow calls the library, never the reverse


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


MODULES = modules()


def imports_of(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, resolved to the longest name that is one of ours."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in MODULES else base)
    return found


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def rule_for(module: str) -> set[str]:
    key = max((k for k in ALLOWED if module == k or module.startswith(k + ".")), key=len)
    return ALLOWED[key]


def test_every_package_of_the_repository_is_covered():
    assert {m.split(".")[0] for m in MODULES} == set(PACKAGES)
    assert "flowbind.method" in MODULES and "bench.embedded.prepare" in MODULES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_what_its_package_may(module):
    ours = {i for i in GRAPH[module] if i.split(".")[0] in OURS}
    allowed = rule_for(module)
    bad = sorted(i for i in ours if i.split(".")[0] not in allowed)
    assert not bad, f"{module} imports {bad}; its package may import only {sorted(allowed)}"
    assert not {i.split(".")[0] for i in GRAPH[module]} & NEVER_IN_LIBRARIES, module


def test_the_official_adapters_are_the_only_baselines_that_know_the_runner():
    """The rule above would let a recipe import bench if ALLOWED were loosened by accident."""
    for module, found in GRAPH.items():
        if module.startswith("baselines.") and not module.startswith("baselines.official"):
            assert not any(i.startswith("bench") for i in found), module


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules of ``graph``, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_there_is_no_import_cycle():
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_relative_imports_resolve_to_our_modules(tmp_path):
    """A relative import must not slip past the rules as an unknown name."""
    source = tmp_path / "mod.py"
    source.write_text("from .objective import flowbind_loss\nfrom . import drift\n")
    found = imports_of("flowbind.model", source)
    assert {"flowbind.objective", "flowbind.drift"} <= found
