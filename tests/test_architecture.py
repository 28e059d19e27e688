"""The package's shape: layers that run one way, no import cycles, modules of a readable size, a public face.

Layers, bottom up: data -> analyses (profile, funnel, strategy, forecasting; they never import each other) ->
targets -> whatif -> reporting -> app (one object per question a report answers) -> cli. The base modules (exceptions, config, diagnostics, charts, ...) serve
every layer and import none of them. Imports only for type hints (``if TYPE_CHECKING:``) do not count for the
layers; no module imports one that imports it back, type-only imports included.
"""

import ast
import importlib
from pathlib import Path

import pytest

from omnimodel.sources import import_graph, imported_names

PACKAGE = Path(__file__).resolve().parents[1] / "omnimodel"
LAYERS = {"data": 1, "profile": 2, "funnel": 2, "strategy": 2, "forecasting": 2, "ingest": 3, "targets": 3}
LAYERS |= {"whatif": 4, "reporting": 5, "app": 6, "cli": 7}
ANALYSES = {"profile", "funnel", "strategy", "forecasting"}
LONG_ALLOWED = {"data/schema.py", "data/demo.py"}  # the declarative schema and the demo simulator
MAX_LINES = 450


def _graph(type_only: bool = False) -> dict[str, set[str]]:
    return import_graph(type_only)


def _layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    return top, LAYERS.get(top, 0)  # 0: a base module (exceptions, config, diagnostics, charts, ...)


def _against_layers(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, imports in graph.items():
        if module == "omnimodel":  # the package's public face re-exports from every layer
            continue
        top, layer = _layer(module)
        for target in imports:
            other, other_layer = _layer(target)
            if other == top or target == "omnimodel":
                continue
            if other_layer > layer or (top in ANALYSES and other in ANALYSES):
                wrong.append(f"{module} imports {target}")
    return sorted(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    colour: dict[str, str] = {}
    found = []

    def walk(node: str, stack: list[str]) -> None:
        colour[node] = "open"
        for target in sorted(graph.get(node, ())):
            if colour.get(target) == "open":
                found.append(" -> ".join([*stack[stack.index(target) :], target]))
            elif target not in colour:
                walk(target, [*stack, target])
        colour[node] = "done"

    for module in sorted(graph):
        if module not in colour:
            walk(module, [module])
    return found


def test_imports_run_one_way_through_the_layers():
    wrong = _against_layers(_graph())
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_cycles():
    cycles = _cycles(_graph(type_only=True))
    assert not cycles, "import cycles (type-only imports included):\n" + "\n".join(cycles)


def test_the_checks_can_fail():
    # A planted cycle, an upward import and an import between analyses are found; type-only imports are not.
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a -> b -> c -> a"]
    planted = {"omnimodel.data.x": {"omnimodel.funnel.y"}, "omnimodel.profile.z": {"omnimodel.strategy.w"}}
    assert len(_against_layers(planted)) == 2
    tree = ast.parse(
        "from omnimodel.funnel.forecast import x\nif TYPE_CHECKING:\n    from omnimodel.cli import y\n"
    )
    assert imported_names(tree, "omnimodel.funnel.model", False) == {
        "omnimodel.funnel.forecast",
        "omnimodel.funnel.forecast.x",
    }


def test_modules_stay_readable():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
        and str(p.relative_to(PACKAGE)) not in LONG_ALLOWED
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_utils_module():
    assert not [p for p in PACKAGE.rglob("*.py") if p.stem in ("utils", "helpers", "misc")]


@pytest.mark.parametrize(
    "package",
    [
        "data",
        "ingest",
        "profile",
        "funnel",
        "strategy",
        "forecasting",
        "targets",
        "whatif",
        "charts",
        "reporting",
        "app",
    ],
)
def test_every_subpackage_exports_its_public_api(package):
    module = importlib.import_module(f"omnimodel.{package}")
    assert module.__all__, f"omnimodel.{package} exports nothing"
    for name in module.__all__:
        assert getattr(module, name) is not None, f"omnimodel.{package}.{name}"


def test_importing_a_subpackage_stays_cheap():
    import subprocess
    import sys

    code = (
        "import sys, omnimodel.funnel, omnimodel.targets, omnimodel.profile, omnimodel.data, omnimodel.ingest; "
        "print(','.join(m for m in ('pymc', 'ibis', 'matplotlib', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing the packages pulled in {out.stdout.strip()}"


def test_version_comes_from_the_installed_metadata():
    from importlib.metadata import version

    import omnimodel

    assert omnimodel.__version__ == version("omnimodel")


def test_every_error_raised_is_an_omnimodel_error():
    builtin = {
        "ValueError",
        "KeyError",
        "TypeError",
        "RuntimeError",
        "Exception",
        "IndexError",
        "LookupError",
    }
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and node.exc is not None:
                call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                name = call.id if isinstance(call, ast.Name) else getattr(call, "attr", "")
                if name in builtin:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} raises {name}")
    assert not found, "raise an OmnimodelError subclass instead:\n" + "\n".join(found)


def _untyped(tree: ast.Module) -> list[str]:
    """Public functions and methods (and ``__init__``) with a parameter or a return not annotated."""
    found = []
    items = [(None, n) for n in tree.body] + [
        (c.name, n)
        for c in tree.body
        if isinstance(c, ast.ClassDef) and not c.name.startswith("_")
        for n in c.body
    ]
    for owner, fn in items:
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if fn.name.startswith("_") and fn.name != "__init__":
            continue
        a = fn.args
        params = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(p for p in (a.vararg, a.kwarg) if p)]
        missing = [p.arg for p in params if p.annotation is None and p.arg not in ("self", "cls")]
        if fn.returns is None and fn.name != "__init__":
            missing.append("return")
        if missing:
            found.append(f"{owner + '.' if owner else ''}{fn.name}: {', '.join(missing)}")
    return found


def test_every_public_function_is_typed():
    found = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in _untyped(ast.parse(path.read_text()))
    ]
    assert not found, "annotate the parameters and return of:\n" + "\n".join(found)


def test_the_typing_check_can_fail():
    tree = ast.parse(
        "def shown(x, y: int):\n    pass\nclass A:\n    def go(self) -> None: ...\n    def _own(self, z): ..."
    )
    assert _untyped(tree) == ["shown: x, return"]
