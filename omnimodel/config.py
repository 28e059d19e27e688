"""Reading configs from YAML: safely (no tags, nothing run), with one clear error naming the line.

Each typed config lives beside its owner: the funnel definition in :mod:`omnimodel.funnel.definition`, the
strategy goals in :mod:`omnimodel.targets.goals`, the report suite in :mod:`omnimodel.reporting.suite`. Three
configs stay apart: what a model is, how to fit it (sampler settings, next to each model), and which reports to
run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from omnimodel.exceptions import ConfigError


def parse_yaml(text: str, where: str) -> Any:
    """YAML read safely (no tags, nothing run), or one ConfigError naming the line and what to write instead."""
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(
            f"{where} uses a YAML tag{line}, which omnimodel never reads: {exc.problem}",
            fix="write plain values (text, numbers, lists, mappings) without `!` tags",
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{where} is not valid YAML{line}: {problem}", fix="check indentation and quoting there"
        ) from exc


def read_yaml(path: Path, what: str, fix: str) -> Any:
    """The parsed YAML at ``path``, or a ConfigError saying what is missing or malformed."""
    if not path.exists():
        raise ConfigError(f"{what} {path} not found", fix=fix)
    return parse_yaml(path.read_text(), str(path)) or {}
