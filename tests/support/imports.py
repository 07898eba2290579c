"""The import graph of the dicomio package, read from its source (no module is imported).

Every import counts, at module level or inside a function (a lazy import is still a
dependency), except those under ``if TYPE_CHECKING:``. ``from package import name`` counts as
importing ``package`` and, when ``name`` is a module, ``package.name``. Relative imports are
resolved against the importing module's package.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

_SPEC = importlib.util.find_spec("dicomio")  # finds the package without importing it
assert _SPEC is not None and _SPEC.origin is not None
PACKAGE_ROOT = Path(_SPEC.origin).parent


def module_name(path: Path) -> str:
    """The dotted name of a source file of the package (a package's ``__init__`` is the package)."""
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of dicomio → its source file."""
    return {module_name(p): p for p in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _statements(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree`` at any depth, except under ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _statements(ast.Module(body=node.orelse, type_ignores=[]))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        else:
            yield from _statements(node)


def imports_of(name: str, path: Path) -> Iterator[tuple[str, str | None]]:
    """What module ``name`` (source file ``path``) imports, as absolute names.

    Yields ``(module, None)`` for ``import module`` and ``(module, attribute)`` for
    ``from module import attribute``; relative imports are resolved.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _statements(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
            continue
        source = node.module or ""
        if node.level:  # level 1 is the package itself, each further level its parent
            parent = package.rsplit(".", node.level - 1)[0]
            source = f"{parent}.{source}" if source else parent
        yield from ((source, alias.name) for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module → the dicomio modules it imports (a package's ``__init__`` counts as its name)."""
    files = modules()
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        found = set()
        for module, attribute in imports_of(name, path):
            found.add(module)
            if attribute is not None:  # ``from package import submodule``
                found.add(f"{module}.{attribute}")
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (the first repeated last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target):], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def defined_names(path: Path) -> set[str]:
    """The names a module defines at its top level (functions, classes, assignments, also
    inside top-level ``if``/``try`` blocks), not those it imports."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found
