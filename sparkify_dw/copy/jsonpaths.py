"""JSONPaths files: `{"jsonpaths": ["$['artist']", "$.a.b", "$['list'][0]", ...]}`.

Redshift accepts bracket and dot notation with names and array indexes, nothing fancier; each
expression maps by position to a column. A path that finds nothing loads NULL.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sparkify_dw.errors import SourceError

Path = tuple[str | int, ...]

_STEP = re.compile(
    r"""\[\s*'((?:[^'\\]|\\.)*)'\s*\]   # ['name']
      | \[\s*"((?:[^"\\]|\\.)*)"\s*\]   # ["name"]
      | \[\s*(\d+)\s*\]                  # [0]
      | \.([^.\[\]]+)                    # .name
    """,
    re.VERBOSE,
)


def plain_keys(paths: list[Path]) -> list[str] | None:
    """The top-level key of each path when every one is a plain `$['key']`, else None: such
    paths are dict lookups (and, on DuckDB, plain JSON paths)."""
    if all(len(p) == 1 and isinstance(p[0], str) for p in paths):
        return [str(p[0]) for p in paths]
    return None


def parse_path(expression: str) -> Path:
    """Parse one expression; ValueError when it is not a path Redshift accepts."""
    text = expression.strip()
    if not text.startswith("$"):
        raise ValueError(f"{expression!r} does not start with '$'")
    steps: list[str | int] = []
    pos = 1
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None:
            raise ValueError(f"{expression!r} is not valid at position {pos}: {text[pos:]!r}")
        single, double, index, dotted = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            name = next(g for g in (single, double, dotted) if g is not None)
            steps.append(re.sub(r"\\(.)", r"\1", name))
        pos = match.end()
    if not steps:
        raise ValueError(f"{expression!r} names no element")
    return tuple(steps)


def parse_jsonpaths(text: str, source: str) -> list[Path]:
    """Parse a JSONPaths file's text; SourceError naming `source` when it is malformed."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"JSONPaths file {source} is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("jsonpaths"), list):
        raise SourceError(f'JSONPaths file {source} must be {{"jsonpaths": [ ... ]}}')
    paths: list[Path] = []
    for position, expression in enumerate(document["jsonpaths"], start=1):
        if not isinstance(expression, str):
            raise SourceError(f"JSONPaths file {source}: expression {position} is not a string")
        try:
            paths.append(parse_path(expression))
        except ValueError as exc:
            raise SourceError(f"JSONPaths file {source}: expression {position}: {exc}") from None
    if not paths:
        raise SourceError(f"JSONPaths file {source} lists no expressions")
    return paths


def evaluate(value: Any, path: Path) -> Any:
    """The element `path` finds in `value`, or None."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return None
        elif not isinstance(value, dict):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value
