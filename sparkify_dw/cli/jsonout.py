"""`--format json`: one JSON document on stdout, and nothing else there.

Every document is an object whose `schema_version` names the version of its JSON Schema
(sparkify_dw/schemas/<command>.schema.json, shipped in the package): a change that would break
a reader (a field removed, renamed or retyped) raises it; a new field does not. Messages,
progress and warnings stay on stderr. A mistake prints no document: stdout is empty and the
one `error: …` line on stderr and the exit code say what happened, as in text mode. A result
that is not a mistake (a failed check, a failed expectation) prints its document, then exits 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = 1


def print_document(document: Mapping[str, Any]) -> None:
    """`document`, with its `schema_version` first, as indented JSON on stdout."""
    versioned = {"schema_version": SCHEMA_VERSION, **document}
    # default=str: a value no converter foresaw (a driver's own type) prints as text rather
    # than a traceback in place of the document.
    text = json.dumps(versioned, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
