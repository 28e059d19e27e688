"""The package's own code: which of its modules a module runs, and a hash of them.

A cached fit is keyed by the code that computed it (:func:`code_hash`): the module that computes it and every
omnimodel module it imports, followed through the package (imports inside functions included, names a package
re-exports lazily resolved to their modules). So a change to any code a fit runs computes it anew, and a change
elsewhere (a report, a chart) does not. The import graph is read from the source files, not from what happens
to be imported: the same code always gives the same hash.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def module_files() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its ``__init__.py``)."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _lazy_exports(tree: ast.AST) -> dict[str, str]:
    """A package's lazily re-exported names (its ``_PUBLIC`` table: name -> module relative to it)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_PUBLIC" for t in node.targets):
            return dict(ast.literal_eval(node.value))
    return {}


def imported_names(tree: ast.AST, this: str, is_package: bool, type_only: bool = False) -> set[str]:
    """The omnimodel names a module's code imports, anywhere in it (functions included): modules, and
    ``module.name`` for each name taken from one. Imports under ``if TYPE_CHECKING:`` run nothing and count
    only with ``type_only``."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test) and not type_only:
            for other in node.orelse:
                visit(other)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("omnimodel"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = this.split(".")[: len(this.split(".")) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.startswith("omnimodel"):
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names)  # `from pkg import submodule`
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(type_only: bool = False) -> dict[str, set[str]]:
    """Each module -> the package's modules it imports (a lazily exported name counts as its module)."""
    files = module_files()
    trees = {name: ast.parse(path.read_text()) for name, path in files.items()}
    lazy = {name: _lazy_exports(tree) for name, tree in trees.items() if files[name].name == "__init__.py"}
    graph = {}
    for name, tree in trees.items():
        targets = set()
        for m in imported_names(tree, name, files[name].name == "__init__.py", type_only):
            package, _, attr = m.rpartition(".")
            if m in files:
                targets.add(m)
            elif attr in lazy.get(package, {}):
                targets.add(f"{package}.{lazy[package][attr]}")
        graph[name] = targets - {name}
    return graph


def used_modules(*entries: str) -> list[str]:
    """The modules ``entries`` (dotted names) run: themselves and everything they import, transitively."""
    graph = _graph()
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parent = name.rpartition(".")[0]  # importing a.b.c runs the packages a.b and a too
        todo.extend(graph.get(name, ()))
        if parent:
            todo.append(parent)
    return sorted(seen & set(graph))


@cache
def _graph() -> dict[str, set[str]]:
    return import_graph()


def code_hash(*entries: str) -> str:
    """sha256 of the source of every module ``entries`` run (:func:`used_modules`).

    Examples
    --------
    >>> len(code_hash("omnimodel.saved"))
    64
    """
    files = module_files()
    digest = hashlib.sha256()
    for name in used_modules(*entries):
        digest.update(name.encode())
        digest.update(files[name].read_bytes())
    return digest.hexdigest()
