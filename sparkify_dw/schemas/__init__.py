"""The JSON Schemas (draft 2020-12) of what `sparkify-dw <command> --format json` prints.

One file per document, shipped in the package beside this module: run, check, verify,
query-list, cluster-status and sql (`<name>.schema.json`). Validate a document with any JSON
Schema library, e.g. `jsonschema.validate(document, load_schema("run"))`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).resolve().parent
NAMES = ("run", "check", "verify", "query-list", "cluster-status", "sql", "history")


def schema_path(name: str) -> Path:
    """The file of the schema `name` (one of NAMES)."""
    if name not in NAMES:
        raise ValueError(f"No schema {name!r}: one of {', '.join(NAMES)}")
    return SCHEMAS_DIR / f"{name}.schema.json"


def load_schema(name: str) -> dict[str, Any]:
    """The schema `name` (one of NAMES), parsed."""
    schema: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return schema
