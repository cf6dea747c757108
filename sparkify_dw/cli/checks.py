"""`sparkify-dw check`: the data-quality checks (sparkify_dw.checks) as a table, and an exit code.

Mounted on the main command by `register(app)`. Exit code 1 when an error-severity check fails
(a ChecksFailed: one line on stderr, printed by `sparkify_dw.cli.app.main`), 0 when every check
passes or only warnings remain. `run` calls `check_after_load` once its load is committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from sparkify_dw.cli import progress
from sparkify_dw.cli.consoles import out
from sparkify_dw.cli.jsonout import print_document
from sparkify_dw.cli.options import DbOption, FormatOption, OutputFormat, WarehouseConfigOption
from sparkify_dw.errors import SparkifyError

if TYPE_CHECKING:
    from sparkify_dw.checks import CheckResult
    from sparkify_dw.checkscope import Scope


def register(app: typer.Typer) -> None:
    """Add `sparkify-dw check` to the `sparkify-dw` app (once, however often called)."""
    if not any(command.name == "check" for command in app.registered_commands):
        app.command(name="check")(check)


def check(
    db: DbOption = None,
    config: WarehouseConfigOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Run the data-quality checks on the warehouse and print each one's result.

    Exit code 1 when a check of severity `error` fails, 0 otherwise (warnings included).
    """
    from sparkify_dw.checks import check_database, results_to_dict
    from sparkify_dw.config import Settings

    settings = Settings.resolve(config_file=config, db_url=db)
    with progress.reporting() as advance:
        results = check_database(settings.db_url, progress=advance)
    if output is OutputFormat.json:  # the document first, then the exit code
        print_document({"database": settings.safe_db_url, **results_to_dict(results)})
        _raise_on_failure(results, "")
        return
    out.print(f"Checked {settings.safe_db_url}")
    out.print(results_table(results))
    out.print(summary(results))
    _raise_on_failure(results, "")


def check_after_load(db_url: str, scope: Scope = "load") -> None:
    """What `run` does after its load: the checks (of the rows the load's batch names, or of
    every row: `scope`), a summary and the checks that did not pass.

    Raises ChecksFailed (exit 1) when an error-severity check fails; the load stays committed.
    """
    from sparkify_dw.checks import check_database

    with progress.reporting() as advance:
        results = check_database(db_url, progress=advance, scope=scope)
    out.print(f"Data-quality checks{_SCOPE_SAYS[scope]}: {summary(results)}")
    unpassed = [r for r in results if not r.passed]
    if unpassed:
        out.print(results_table(unpassed))
    _raise_on_failure(results, _AFTER_LOAD)


# How `run` says which rows its checks read.
_SCOPE_SAYS: dict[Scope, str] = {
    "load": " of the load's rows (`sparkify-dw check` reads every row)",
    "warehouse": "",
}


def print_run_document(load: dict[str, Any], db_url: str, scope: Scope = "load") -> None:
    """`run --format json`: the load's report (`LoadReport.to_dict()`) and the checks' results
    as one document, then exit 1 (ChecksFailed) when an error-severity check failed.

    When the checks cannot run at all, the committed load's report still prints, with
    `"checks": null`, before the error line.
    """
    from sparkify_dw.checks import check_database, results_to_dict

    try:
        results = check_database(db_url, scope=scope)
    except SparkifyError:
        print_document({**load, "checks": None})
        raise
    print_document({**load, "checks": results_to_dict(results, scope=True)})
    _raise_on_failure(results, _AFTER_LOAD)


_AFTER_LOAD = " after the load (the load itself is committed)"


def _raise_on_failure(results: Sequence[CheckResult], when: str) -> None:
    from sparkify_dw.checks import ChecksFailed, failures

    failed = failures(results)
    if failed:
        names = ", ".join(r.name for r in failed)
        raise ChecksFailed(f"{len(failed)} data-quality check(s) failed{when}: {names}", results)


def summary(results: Sequence[CheckResult]) -> str:
    from sparkify_dw.checks import Severity, failures

    passed = sum(r.passed for r in results)
    failed = len(failures(results))
    warned = sum(not r.passed and r.severity is Severity.WARNING for r in results)
    return f"{len(results)} checks: {passed} passed, {failed} failed, {warned} warning(s)"


def results_table(results: Sequence[CheckResult]) -> Table:
    from sparkify_dw.checks import Severity

    table = Table()
    table.add_column("check")
    table.add_column("result")
    table.add_column("offending", justify="right")
    # Folded, never cut short with "…": an example is a value to look up (a reject's file).
    table.add_column("examples", overflow="fold")
    for result in results:
        if result.passed:
            state = Text("passed", style="green")
        elif result.severity is Severity.WARNING:
            state = Text("warning", style="yellow")
        else:
            state = Text("FAILED", style="bold red")
        examples = "\n".join(_example(row) for row in result.examples)
        more = result.offending - len(result.examples)
        if result.examples and more > 0:
            examples += f"\n… and {more:,} more"
        # Text cells: names, descriptions and values print as they are, brackets included.
        table.add_row(
            Text.assemble(result.name, "\n", (result.description, "dim")),
            state,
            Text(f"{result.offending:,}"),
            Text(examples),
        )
    return table


def _example(row: dict[str, Any]) -> str:
    return ", ".join(f"{key}={_value(value)}" for key, value in row.items())


def _value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    return str(value)  # whole: a file name or key cut short could not be looked up
