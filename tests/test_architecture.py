"""The library's layers: no import cycle between its modules, whether an import sits at the top of a
module or inside a function (a function-level import that closes a loop is a cycle all the same)."""

import ast
from pathlib import Path

from conftest import ROOT

LIBRARY = ROOT / "anonymize"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in LIBRARY.rglob("*.py") if "models" not in path.parts}


def imported(path: Path) -> set[str]:
    """The library's modules ``path`` imports, anywhere in it but under ``if TYPE_CHECKING:`` (types only)."""
    found = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.module.split(".")[0] == "anonymize":
                for alias in child.names:
                    found.add(
                        f"{child.module}.{alias.name}" if f"{child.module}.{alias.name}" in MODULES else child.module
                    )
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names if alias.name.split(".")[0] == "anonymize")
            visit(child)

    visit(ast.parse(path.read_text()))
    return {name for name in found if name in MODULES} - {module_name(path)}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                groups.append(sorted(group))

    for v in graph:
        if v not in index:
            strong(v)
    return groups


def test_no_module_of_the_library_imports_itself_back_through_others():
    # The package's __init__ gathers the public names: importing a submodule does not import it back.
    graph = {name: imported(path) - {"anonymize"} for name, path in MODULES.items()}
    assert cycles(graph) == []


def test_the_library_never_imports_streamlit_or_the_app():
    def outside(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
        return names & {"streamlit", "streamlit_webrtc", "ui", "app_pages"}

    assert {name: found for name, path in MODULES.items() if (found := outside(path))} == {}


def test_the_check_finds_a_cycle_when_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_package_of_the_library_is_in_the_wheel():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {
        module_name(init.parent / "__init__.py") for init in LIBRARY.rglob("__init__.py") if "models" not in init.parts
    }
    assert packages <= listed
