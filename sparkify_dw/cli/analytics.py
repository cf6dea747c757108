"""`sparkify-dw query` and `sparkify-dw verify`: the analytics questions from the command line.

Mounted on the main command by `register(app)`. Mistakes (an unknown query, a bad date, no
warehouse yet, a malformed expectations file) are SparkifyErrors: one line on stderr and exit 1,
printed by `sparkify_dw.cli.app.main`. A failed expectation is not a mistake: `verify` prints what
differs and exits 1.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sparkify_dw.cli.consoles import out
from sparkify_dw.cli.jsonout import print_document
from sparkify_dw.cli.options import DbOption, FormatOption, OutputFormat, WarehouseConfigOption
from sparkify_dw.errors import ConfigError
from sparkify_dw.sample import SAMPLE_EXPECTATIONS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from sparkify_dw.analytics import Check, Query, Result

# sparkify_dw.analytics (and SQLAlchemy with it) is imported inside each command, so that
# `sparkify-dw --help` does not pay for it.


class Level(StrEnum):
    free = "free"
    paid = "paid"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add `query` and `verify` to the `sparkify-dw` app (once, however often called)."""
    names = {command.name for command in app.registered_commands}
    if "query" not in names:
        app.command("query")(query)
    if "verify" not in names:
        app.command("verify")(verify)


def open_warehouse(db: str | None, config: Path | None) -> Engine:
    """The engine of the database a run loaded (flags, $SPARKIFY_DB_URL, dwh.cfg, default).

    A DuckDB file that does not exist is not created (connecting would make an empty one).
    """
    from sparkify_dw import warehouse
    from sparkify_dw.config import Settings

    settings = Settings.resolve(config_file=config, db_url=db)
    return warehouse.open_warehouse(settings.db_url)


def query(
    name: Annotated[
        str | None,
        typer.Argument(help="The query to run (see --list).", show_default=False),
    ] = None,
    db: DbOption = None,
    config: WarehouseConfigOption = None,
    since: Annotated[
        str | None,
        typer.Option(help="Plays from this day (YYYY-MM-DD) or UTC time on, inclusive."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Plays up to this day (YYYY-MM-DD) or UTC time, inclusive."),
    ] = None,
    level: Annotated[Level | None, typer.Option(help="Only the plays made at this level.")] = None,
    limit: Annotated[
        int | None, typer.Option(help="At most this many rows (ranked queries; default 10).")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="How to print the rows.")] = (
        Format.table
    ),
    list_queries: Annotated[
        bool, typer.Option("--list", help="List the queries and what they answer.")
    ] = False,
) -> None:
    """Run one of the analytics queries on the warehouse and print its rows."""
    from sparkify_dw.analytics import QUERIES, QueryError, get_query, run_query, to_json_value

    if list_queries:
        _print_list(output)
        return
    if name is None:
        raise QueryError(f"Name a query: one of {', '.join(QUERIES)} (--list describes them)")
    filters: dict[str, Any] = {
        "since": since,
        "until": until,
        "level": level.value if level else None,
        "limit": limit,
    }
    get_query(name).parse_filters(**filters)  # a mistake is reported before connecting
    engine = open_warehouse(db, config)
    try:
        result = run_query(engine, name, **filters)
    finally:
        engine.dispose()
    if output is Format.json:
        records = [{c: to_json_value(v) for c, v in r.items()} for r in result.records()]
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    elif output is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([_cell(v) for v in row] for row in result.rows)
    else:
        _print_table(result)


def _cell(value: Any) -> str:
    from sparkify_dw.analytics import to_json_value

    value = to_json_value(value)
    return "" if value is None else str(value)


def _print_table(result: Result) -> None:
    given = result.filters.given()
    caption = ", ".join(f"{k}={v}" for k, v in given.items()) or None
    table = Table(title=result.query, caption=caption)
    cells = [[_cell(value) for value in row] for row in result.rows]
    for i, column in enumerate(result.columns):
        values = [row[i] for row in result.rows]
        numeric = bool(values) and all(isinstance(v, int | float) for v in values)
        words = [cell[i] for cell in cells]
        if any(" " in word for word in words):  # free text wraps at spaces
            table.add_column(column, overflow="fold")
        else:  # ids, numbers, dates: never cut short nor split over lines
            width = max([len(column), *map(len, words)])
            justify: Literal["left", "right"] = "right" if numeric else "left"
            table.add_column(column, justify=justify, no_wrap=True, min_width=width)
    for row_cells in cells:
        table.add_row(*map(Text, row_cells))
    out.print(table)
    out.print(f"{len(result.rows)} row(s)")


def _print_list(output: Format) -> None:
    from sparkify_dw.analytics import QUERIES

    if output is Format.json:
        print_document({"queries": [_query_dict(q) for q in QUERIES.values()]})
        return
    if output is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["name", "answers", "filters"])
        writer.writerows([q.name, q.description, " ".join(_takes(q))] for q in QUERIES.values())
        return
    table = Table(title="Queries")
    table.add_column("name")
    table.add_column("answers")
    table.add_column("filters")
    for query_ in QUERIES.values():
        table.add_row(query_.name, query_.description, ", ".join(_takes(query_)))
    out.print(table)


def _takes(query_: Query) -> list[str]:
    from sparkify_dw.analytics import FILTERS

    return [f"--{f}" for f in FILTERS if f in query_.filters]


def _query_dict(query_: Query) -> dict[str, Any]:
    from sparkify_dw.analytics import FILTERS

    return {
        "name": query_.name,
        "description": query_.description,
        "columns": list(query_.columns),
        "key": list(query_.key),
        "filters": [f for f in FILTERS if f in query_.filters],
        "default_limit": query_.default_limit,
    }


def verify(
    expected: Annotated[
        Path | None,
        typer.Option(
            "--expected",
            help="The expectations file (JSON) [default: the bundled sample's; --write needs one]",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    config: WarehouseConfigOption = None,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Write the database's current results into the file (keeping its queries "
            "and parameters, or every query with its defaults for a new file) instead of "
            "checking them.",
        ),
    ] = False,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Run the queries of an expectations file and compare their rows with the expected ones.

    Each expectation is reported PASS or FAIL with what differs (missing, unexpected or changed
    rows); the exit code is 1 when any fails.
    """
    from sparkify_dw.analytics import load_expectations
    from sparkify_dw.analytics import verify as verify_expectations

    if write:
        if output is OutputFormat.json:  # it writes a file: there is no result to print
            raise ConfigError("--write prints no JSON document: leave out --format json")
        if expected is None:  # never the file shipped inside the package
            raise ConfigError(
                "--write needs --expected FILE: the file to write (the bundled sample's "
                "expectations are never rewritten)"
            )
        _write(expected, db, config)
        return
    expected = expected or SAMPLE_EXPECTATIONS
    expectations = load_expectations(expected)  # a malformed file is reported before connecting
    engine = open_warehouse(db, config)
    try:
        checks = verify_expectations(engine, expectations)
    finally:
        engine.dispose()
    failed = sum(1 for check in checks if not check.passed)
    if output is OutputFormat.json:  # the document first, then the exit code
        counts = {"expectations": len(checks), "passed": len(checks) - failed, "failed": failed}
        print_document(
            {
                "expected": str(expected),
                "ok": not failed,
                "summary": counts,
                "expectations": [_check_dict(check) for check in checks],
            }
        )
        if failed:
            raise typer.Exit(1)
        return
    for check in checks:
        _print_check(check)
    summary = f"{len(checks) - failed} passed, {failed} failed ({expected})"
    if failed:
        out.print(f"[bold red]FAILED[/]: {escape(summary)}", markup=True)
        raise typer.Exit(1)
    out.print(f"[bold green]OK[/]: {escape(summary)}", markup=True)


def _check_dict(check: Check) -> dict[str, Any]:
    from sparkify_dw.analytics import to_json_value

    expectation, result = check.expectation, check.result
    return {
        "query": expectation.query,
        "params": expectation.params,
        "title": expectation.title,
        "description": expectation.description,
        "status": "passed" if check.passed else "failed",
        "columns": list(result.columns),
        "rows": [[to_json_value(value) for value in row] for row in result.rows],
        "differences": list(check.differences),
    }


def _print_check(check: Check) -> None:
    title = Text(check.expectation.title)
    rows = len(check.result.rows)
    if check.passed:
        out.print(Text.assemble(("PASS ", "bold green"), title, f": {rows} row(s)"))
        return
    out.print(Text.assemble(("FAIL ", "bold red"), title))
    styles = {"-": "red", "+": "green", "~": "yellow"}
    for line in check.differences:
        out.print(Text("     " + line, style=styles.get(line[:1], "")))


def _write(path: Path, db: str | None, config: Path | None) -> None:
    from sparkify_dw.analytics import QUERIES, load_expectations, snapshot, write_expectations

    if path.exists():
        entries = [(e.query, e.params) for e in load_expectations(path)]
        description = _description(path)
    else:
        entries = [(name, {}) for name in QUERIES]
        description = None
    engine = open_warehouse(db, config)
    try:
        document = snapshot(engine, entries, description)
    finally:
        engine.dispose()
    try:
        write_expectations(path, document)  # whole or not at all: a failure keeps the old file
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror or exc}") from None
    out.print(f"Wrote the results of {len(entries)} queries to {path}")


def _description(path: Path) -> str | None:
    try:
        description = json.loads(path.read_text(encoding="utf-8")).get("description")
    except (OSError, ValueError, AttributeError):
        return None
    return description if isinstance(description, str) else None
