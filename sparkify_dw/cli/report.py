"""`sparkify-dw report`: the warehouse's HTML report (sparkify_dw.report) written to a file.

Mounted on the main command by `register(app)`. Mistakes (no warehouse yet, a database that
does not answer, a file that cannot be written) are SparkifyErrors: one line on stderr and exit
1, printed by `sparkify_dw.cli.app.main`. Failed data-quality checks are shown in the report, not
turned into an exit code (that is `sparkify-dw check`'s job).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sparkify_dw.cli.consoles import out
from sparkify_dw.cli.options import DbOption, WarehouseConfigOption


def register(app: typer.Typer) -> None:
    """Add `sparkify-dw report` to the `sparkify-dw` app (once, however often called)."""
    if not any(command.name == "report" for command in app.registered_commands):
        app.command(name="report")(report)


def report(
    output: Annotated[
        Path, typer.Option("--out", help="The HTML file to write (replaced if it exists).")
    ] = Path("report.html"),
    db: DbOption = None,
    config: WarehouseConfigOption = None,
) -> None:
    """Write one self-contained HTML file: row counts, data-quality checks and charts."""
    from sparkify_dw.cli.analytics import open_warehouse
    from sparkify_dw.report import write_report
    from sparkify_dw.urls import redact_url

    engine = open_warehouse(db, config)  # a DuckDB file that does not exist is not created
    try:
        path = write_report(engine, output)
    finally:
        engine.dispose()
    size = path.stat().st_size
    out.print(f"Wrote {path} ({size / 1024:,.0f} KiB) for {redact_url(engine.url)}")
