"""Options several `sparkify-dw` commands share, declared once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL [default: $SPARKIFY_DB_URL, dwh.cfg, duckdb:///sparkify.duckdb]"
    ),
]
# For the commands that load: the whole dwh.cfg matters.
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="A dwh.cfg with [CLUSTER], [IAM_ROLE] and [S3] sections."),
]
# For the commands that only read the warehouse: only [CLUSTER] matters.
WarehouseConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="A dwh.cfg whose [CLUSTER] names the database."),
]


class OutputFormat(StrEnum):
    """What a command prints on stdout: text for people, or one JSON document for programs."""

    text = "text"
    json = "json"


# The same option on every command that has a JSON form: its document's JSON Schema ships in
# the package (sparkify_dw/schemas/<command>.schema.json).
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        help="text, or json: one JSON document on stdout (schema: sparkify_dw/schemas/).",
    ),
]

# Redshift: where the file ledger's manifests go (run and sql)
ManifestPrefixOption = Annotated[
    str | None,
    typer.Option(
        "--manifest-prefix",
        help="Redshift: an s3:// prefix the loader may write; each load then COPYs a manifest "
        "of the objects not loaded yet (file ledger) [default: [S3] MANIFEST_PREFIX, none]",
    ),
]
