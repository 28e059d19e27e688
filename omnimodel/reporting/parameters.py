"""Notebook parameters: read the typed `parameters` cell and check values before anything runs.

Papermill alone only warns about unknown parameters and never checks types; a scheduled report that silently
ignores ``--param perod=2026Q1`` is worse than one that stops. Here an unknown name or a value of the wrong
type is an error naming the notebook and the parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from omnimodel.exceptions import ParameterError

_BOOL = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
    "on": True,
    "off": False,
}
_NONE = {"none", "null", ""}


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter of a notebook's ``parameters`` cell: name, type, default and help."""

    name: str
    type: str  # the annotation as written, e.g. "int", "str | None"
    default: str  # source text of the default
    help: str


def _parameters_cell(nb) -> str | None:
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    return cells[0].source if len(cells) == 1 else None


def notebook_parameters(path: str | Path) -> dict[str, NotebookParameter]:
    """The declared parameters of a notebook: one ``name: type = default  # help`` per line.

    Raises :class:`ParameterError` when the notebook has no single cell tagged ``parameters``.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    source = _parameters_cell(nb)
    if source is None:
        raise ParameterError(
            f"notebook {path.stem} needs exactly one cell tagged 'parameters'",
            fix="tag the cell with the defaults in JupyterLab (cell inspector > tags)",
        )
    out = {}
    pattern = re.compile(
        r"^(?P<name>[A-Za-z_]\w*)\s*:\s*(?P<type>[^=]+?)\s*=\s*(?P<default>.+?)\s*(#\s*(?P<help>.*))?$"
    )
    for line in source.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = pattern.match(line)
        if not m:
            raise ParameterError(
                f"notebook {path.stem}: parameter line {line.strip()!r} is not `name: type = default`",
                fix="give every parameter a type annotation and a default on one line",
            )
        out[m["name"]] = NotebookParameter(
            m["name"], m["type"].strip(), m["default"], (m["help"] or "").strip()
        )
    return out


def _base_types(annotation: str) -> tuple[set[str], bool]:
    parts = {p.strip() for p in re.split(r"[|]", annotation.replace("Optional[", "").rstrip("]"))}
    nullable = "None" in parts or annotation.startswith("Optional[")
    return parts - {"None"}, nullable


def coerce_value(notebook: str, param: NotebookParameter, value: Any) -> Any:
    """Convert a value (text from ``--param`` or a YAML value) to the parameter's type, or raise."""
    types, nullable = _base_types(param.type)

    def fail():
        shown = f"{value!r} ({type(value).__name__})"
        raise ParameterError(
            f"notebook {notebook}: parameter '{param.name}' expects {param.type}, got {shown}",
            fix=f"pass a {param.type} value, e.g. the default {param.default}",
        )

    # Text "none", "null" or "" means None where None is allowed (`--param region=none`).
    if value is None or (isinstance(value, str) and value.strip().lower() in _NONE and nullable):
        if nullable:
            return None
        fail()
    order = ["bool", "int", "float", "list", "dict", "str"]
    for t in sorted(types, key=lambda t: order.index(t.split("[")[0]) if t.split("[")[0] in order else 99):
        if t == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in _BOOL:
                return _BOOL[value.strip().lower()]
        elif t == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
                return int(value)
        elif t == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    pass
        elif t in ("list", "dict") or t.startswith(("list[", "dict[")):
            kind = list if t.startswith("list") else dict
            if isinstance(value, kind):
                return value
            if isinstance(value, str):
                from omnimodel.config import parse_yaml

                parsed = parse_yaml(value, f"parameter '{param.name}'")
                if isinstance(parsed, kind):
                    return parsed
        elif t == "str":
            if isinstance(value, str):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)  # YAML reads 2026 as an int; a year or period given bare is still text
        else:
            raise ParameterError(
                f"notebook {notebook}: parameter '{param.name}' has unsupported type {param.type}",
                fix="use str, int, float, bool, list or dict (optionally `| None`)",
            )
    fail()


def check_parameters(notebook_path: str | Path, values: dict[str, Any]) -> dict[str, Any]:
    """Typed parameter values for one notebook; unknown names and wrong types raise ParameterError."""
    name = Path(notebook_path).stem
    declared = notebook_parameters(notebook_path)
    unknown = [k for k in values if k not in declared]
    if unknown:
        raise ParameterError(
            f"notebook {name} has no parameter(s) {', '.join(map(repr, unknown))}",
            fix=f"use one of {', '.join(declared) or '(none)'}",
        )
    return {k: coerce_value(name, declared[k], v) for k, v in values.items()}


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["period=2026Q1", "region=North"]`` -> dict; values stay text until checked against a notebook."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param {pair!r} is not KEY=VALUE", fix="write e.g. --param period=2026Q1")
        out[key.strip()] = value
    return out
