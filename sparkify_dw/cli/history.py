"""`sparkify-dw history`: the last loads (the `loads` table), newest first.

Mounted on the main command by `register(app)`. Text: one row per load; `--format json`: one
document (schema: sparkify_dw/schemas/history.schema.json).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from sparkify_dw.cli.consoles import out
from sparkify_dw.cli.jsonout import print_document
from sparkify_dw.cli.options import DbOption, FormatOption, OutputFormat, WarehouseConfigOption


def register(app: typer.Typer) -> None:
    """Add `sparkify-dw history` to the `sparkify-dw` app (once, however often called)."""
    if not any(command.name == "history" for command in app.registered_commands):
        app.command(name="history")(history)


def history(
    db: DbOption = None,
    config: WarehouseConfigOption = None,
    limit: Annotated[int, typer.Option(min=1, help="How many loads to show, newest first.")] = 20,
    output: FormatOption = OutputFormat.text,
) -> None:
    """The last loads: when, by whom, how they ended, what they staged, skipped and added."""
    from sparkify_dw.config import Settings
    from sparkify_dw.history import load_history

    settings = Settings.resolve(config_file=config, db_url=db)
    records = load_history(settings.db_url, limit)
    if output is OutputFormat.json:
        print_document({"database": settings.safe_db_url, "loads": [r.to_dict() for r in records]})
        return
    out.print(f"Loads into {settings.safe_db_url} (newest first, times in UTC)")
    if not records:
        out.print("No load yet.")
        return
    table = Table()
    for name in ("started", "status", "seconds", "user", "rows staged", "rejects",
                 "files new/changed/skipped", "plays added", "error"):  # fmt: skip
        table.add_column(name, justify="right" if name in ("seconds", "rows staged") else "left")
    for r in records:
        added = f"{r.plays_added:+,}" if r.plays_added is not None else ""
        files = (
            f"{r.files_new:,}/{r.files_changed:,}/{r.files_skipped:,}"
            if r.files_new is not None
            and r.files_changed is not None
            and r.files_skipped is not None
            else ""
        )
        table.add_row(
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.status,
            f"{r.seconds:.1f}" if r.seconds is not None else "",
            r.database_user or "",
            f"{r.rows_staged:,}" if r.rows_staged is not None else "",
            f"{r.rejects:,}" if r.rejects is not None else "",
            files,
            added,
            r.error or "",
        )
    out.print(table)
