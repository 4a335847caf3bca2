"""No two modules of console/ import each other, directly or through others.

The graph is read with the ast module from the source, so imports inside functions
count as much as those at the top of a module.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "console"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def console_modules() -> dict[str, Path]:
    return {module_name(path): path for path in (ROOT / PACKAGE).rglob("*.py") if "migrations" not in path.parts}


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every dotted name an import statement of the module names, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    """Each console module to the console modules it imports (a package counts as its __init__)."""
    modules = console_modules()
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        names = imported_names(tree, module, path.name == "__init__.py")
        graph[module] = {name for name in names if name in modules and name != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_inside_functions_and_relative_ones():
    tree = ast.parse("def f():\n    from .tasks import run\n    import console.engine.schedule\n")
    names = imported_names(tree, "console.engine.services", is_package=False)
    assert {"console.engine.tasks", "console.engine.tasks.run", "console.engine.schedule"} <= names


def test_cycles_are_found_through_several_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_covers_the_console():
    graph = import_graph()
    assert "console.engine.services" in graph
    assert "console.engine.conf" in graph["console.engine.services"]


@pytest.mark.parametrize("app", sorted(path.name for path in (ROOT / PACKAGE).iterdir()
                                       if (path / "__init__.py").exists()))
def test_no_console_modules_import_each_other_in_a_circle(app):
    circles = [circle for circle in cycles(import_graph()) if any(m.startswith(f"{PACKAGE}.{app}.") for m in circle)]
    assert circles == []
