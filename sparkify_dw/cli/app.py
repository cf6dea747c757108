"""The `sparkify-dw` app, its `run`, `sql` and `generate` commands, and `main` (the entry point).

A user mistake (bad path, unreachable database, rejected records) is one line on stderr and a
non-zero exit, never a traceback. Passwords never reach the terminal.

`main` runs the click command built from the app (`command`), each option given its SPARKIFY_
variable (cli/environment.py); the app's callback takes the global options that set up stderr
(cli/logs.py), and progress goes through cli/progress.py.
"""

from __future__ import annotations

import logging
import signal
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.table import Table

from sparkify_dw import __version__
from sparkify_dw.backends import NAMES
from sparkify_dw.cli import environment, logs, progress
from sparkify_dw.cli.consoles import out
from sparkify_dw.cli.logs import LogFormat
from sparkify_dw.cli.options import (
    ConfigOption,
    DbOption,
    FormatOption,
    ManifestPrefixOption,
    OutputFormat,
)
from sparkify_dw.errors import SparkifyError

if TYPE_CHECKING:
    from sparkify_dw.loader import LoadReport

# The library is imported inside each command, so `--help` and `--version` stay quick.


class Compression(StrEnum):
    gzip = "gzip"
    bzip2 = "bzip2"


app = typer.Typer(
    help="Build and load Sparkify's song-play data warehouse (Redshift, DuckDB, PostgreSQL).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        out.print(f"sparkify-dw {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress and no informational lines: results and problems."
        ),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="Log each step of the library on stderr (INFO); -vv: DEBUG.",
        ),
    ] = 0,
    log_format: Annotated[
        LogFormat,
        typer.Option(help="How stderr's lines are written: text, or one JSON object a line."),
    ] = LogFormat.text,
) -> None:
    """Sparkify's data warehouse: staging by COPY, a star schema by INSERT … SELECT."""
    logs.setup(quiet=quiet, verbose=verbose, log_format=log_format)


@app.command()
def run(
    db: DbOption = None,
    config: ConfigOption = None,
    song_data: Annotated[
        str | None, typer.Option(help="Song files: a folder or s3:// prefix [default: sample]")
    ] = None,
    log_data: Annotated[
        str | None, typer.Option(help="Event logs: a folder or s3:// prefix [default: sample]")
    ] = None,
    log_jsonpath: Annotated[
        str | None, typer.Option(help="The JSONPaths file for the logs [default: sample's]")
    ] = None,
    max_error: Annotated[
        int | None,
        typer.Option(help="Bad records a COPY may skip before it fails (MAXERROR) [default: 0]"),
    ] = None,
    compression: Annotated[
        Compression | None,
        typer.Option(help="Every data file is compressed so (GZIP, BZIP2) [default: none]"),
    ] = None,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Rebuild the star tables from what this run stages, instead of merging into them",
        ),
    ] = False,
    manifest: Annotated[
        bool,
        typer.Option(
            "--manifest",
            help="--song-data and --log-data name manifest files listing the files (MANIFEST)",
        ),
    ] = False,
    everything: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Stage every object, also those the file ledger holds in the same version",
        ),
    ] = False,
    manifest_prefix: ManifestPrefixOption = None,
    check_all: Annotated[
        bool,
        typer.Option(
            "--check-all",
            help="Check every row of the warehouse after the load, as `check` does, not only "
            "the rows the load's batch names",
        ),
    ] = False,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Migrate, stage and transform: the whole pipeline, then a report of what was loaded.

    Only the objects not loaded before in the same version are staged (the file ledger,
    `loaded_files`); `--all` or `--full-refresh` stage every one. The data-quality checks
    that follow read the rows the load's batch names (every row after a first load or
    --full-refresh); `--check-all` reads every row.
    """
    from sparkify_dw.config import Settings
    from sparkify_dw.loader import is_copy
    from sparkify_dw.loader import run as run_pipeline

    settings = Settings.resolve(
        config_file=config,
        db_url=db,
        song_data=song_data,
        log_data=log_data,
        log_jsonpath=log_jsonpath,
        max_error=max_error,
        compression=compression.value if compression else None,
        manifest=manifest or None,
        manifest_prefix=manifest_prefix,
    )
    settings.check_sources_given()  # not the user's songs with the sample's events
    logs.say(f"Loading into {settings.safe_db_url}")
    when_interrupted("the load was rolled back, nothing changed")
    with progress.reporting(in_bytes=is_copy) as advance:
        report = run_pipeline(
            settings,
            full_refresh=full_refresh,
            reload=everything,
            progress=advance,
            notify=logs.notice,
            # Run below instead, once the load is committed: Ctrl-C then says so, and the
            # checks' table prints after the load's.
            checks=False,
        )
    when_interrupted(
        "the load was committed; its data-quality checks did not finish (sparkify-dw check)"
    )
    from sparkify_dw.cli.checks import check_after_load, print_run_document

    scope = report.check_scope(check_all)
    if output is OutputFormat.json:
        _warn(report)  # stderr: the document holds them too
        print_run_document(report.to_dict(), settings.db_url, scope)  # exit 1 if a check fails
        return
    _print_report(report)
    check_after_load(settings.db_url, scope)  # prints the checks' summary; exit 1 if one fails


def _print_report(report: LoadReport) -> None:
    how = " (star tables rebuilt: --full-refresh)" if report.full_refresh else ""
    out.print(f"Loaded into {report.database}{how}", highlight=False)
    rows = Table()
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    rows.add_column("added", justify="right")
    rows.add_column("changed", justify="right")
    for count in report.tables:
        rows.add_row(count.table, f"{count.after:,}", f"{count.added:+,}", f"{count.changed:,}")
    out.print(rows)

    steps = Table()
    steps.add_column("step")
    steps.add_column("seconds", justify="right")
    for step in report.steps:
        steps.add_row(step.name, f"{step.seconds:.3f}")
    steps.add_row("total", f"{report.seconds:.3f}", style="bold")
    out.print(steps)

    sources = {s.table: s for s in report.sources}
    for copy in report.copies:
        files = len(copy.files)
        rejected = sum(f.rejected for f in copy.files)
        ledger = sources.get(copy.table)
        skipped = ""
        if ledger is not None:  # the file ledger's choice (DuckDB, PostgreSQL)
            changed = f", {len(ledger.changed):,} changed" if ledger.changed else ""
            skipped = f" ({ledger.skipped:,} skipped: loaded before{changed})"
        out.print(
            f"{copy.table}: {copy.rows:,} rows from {files:,} file(s){skipped}, {rejected} rejected"
        )
        for stats in copy.files:
            if stats.rejected:
                out.print(f"  {stats.url}: {stats.rejected} rejected")
    _warn(report)
    if report.rejects:
        out.print(
            f"Every rejected record, with file, line and reason: SELECT * FROM load_errors "
            f"WHERE load_id = '{report.load_id}'",
            highlight=False,
        )


def _warn(report: LoadReport) -> None:
    """The load's warnings, on stderr (in text and JSON mode alike)."""
    for copy in report.copies:
        for warning in copy.warnings:
            logs.warn(f"{copy.table}: {warning}")
    for warning in report.warnings:
        logs.warn(warning)


# The engines, as the backends' registry names them (without importing any backend).
Dialect = StrEnum("Dialect", {name: name for name in NAMES})  # type: ignore[misc]
REDSHIFT = Dialect("redshift")  # the production engine: `sql`'s default


@app.command()
def sql(
    dialect: Annotated[Dialect, typer.Option(help="The engine whose SQL to print.")] = REDSHIFT,
    config: ConfigOption = None,
    song_data: Annotated[str | None, typer.Option(help="Song files (as for run)")] = None,
    log_data: Annotated[str | None, typer.Option(help="Event logs (as for run)")] = None,
    log_jsonpath: Annotated[
        str | None, typer.Option(help="The JSONPaths file (as for run)")
    ] = None,
    max_error: Annotated[int | None, typer.Option(help="MAXERROR (as for run)")] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Include emptying the star tables first.")
    ] = False,
    manifest_prefix: ManifestPrefixOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """Print every statement a run sends to the database, in order, as one SQL script.

    Nothing is connected to. Credentials are masked; the IAM role ARN is shown as configured.
    """
    from sparkify_dw.cli.jsonout import print_document
    from sparkify_dw.config import Settings
    from sparkify_dw.script import run_script, run_statements

    settings = Settings.resolve(
        config_file=config,
        song_data=song_data,
        log_data=log_data,
        log_jsonpath=log_jsonpath,
        max_error=max_error,
        manifest_prefix=manifest_prefix,
    )
    if output is OutputFormat.json:
        statements = run_statements(dialect.value, settings, full_refresh_=full_refresh)
        print_document(
            {
                "dialect": dialect.value,
                "full_refresh": full_refresh,
                "statements": [statement.to_dict() for statement in statements],
            }
        )
        return
    script = run_script(dialect.value, settings, full_refresh_=full_refresh)
    print(script, end="")  # plain: rich would wrap long lines and mark up brackets


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the data into.")],
    songs: Annotated[int, typer.Option(help="Number of song files.")] = 200,
    events: Annotated[int, typer.Option(help="Number of events in the logs.")] = 2_000,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same files.")
    ] = 42,
) -> None:
    """Write synthetic song_data/, log_data/ and log_json_path.json in the source formats."""
    from sparkify_dw.datagen import generate as generate_data

    when_interrupted(f"{out_dir} holds part of the data; run generate again to write all of it")
    try:
        with progress.reporting() as advance:
            report = generate_data(out_dir, songs=songs, events=events, seed=seed, progress=advance)
    except ValueError as exc:
        raise SparkifyError(str(exc)) from None
    except OSError as exc:
        raise SparkifyError(f"Cannot write to {out_dir}: {exc.strerror}") from None
    out.print(
        f"Wrote {report.song_files:,} song files and {report.events:,} events "
        f"({report.next_song_events:,} plays, {report.matched_plays:,} of them in the catalogue) "
        f"in {report.log_files:,} log files to {report.out}"
    )


def _register_subcommands() -> None:
    # Each capability keeps its commands in a module of its own.
    from sparkify_dw.cli import analytics, checks, cluster, db, history, report

    for module in (analytics, checks, cluster, db, history, report):
        module.register(app)


_register_subcommands()


# What Ctrl-C leaves behind, said on the one line it gives; a command that changes something
# sets it while it runs (`when_interrupted`).
_INTERRUPTED = ["interrupted: stopped; a database transaction in progress was rolled back"]


def when_interrupted(message: str) -> None:
    """The line Ctrl-C prints from now on (after `interrupted: `)."""
    _INTERRUPTED[0] = f"interrupted: {message}"


def command() -> typer.core.TyperGroup:
    """The click command `main` runs: the app, each option with its environment variable."""
    group = typer.main.get_command(app)
    # typer >= 0.20 says HAS_RICH; older ones keep the module itself (None without rich)
    has_rich = getattr(typer.core, "HAS_RICH", getattr(typer.core, "rich", None) is not None)
    rich_markup = bool(has_rich) and getattr(app, "rich_markup_mode", None) == "rich"
    environment.prepare(group, rich_markup=rich_markup)
    return group  # type: ignore[return-value]


def main() -> None:
    """Entry point of the `sparkify-dw` console script."""
    signalled = _note_sigint()
    try:
        command()(prog_name="sparkify-dw")
    except SparkifyError as exc:
        if signalled:  # e.g. "Load failed …: Query interrupted": DuckDB's word for Ctrl-C
            _interrupted()
        logs.error(str(exc))
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as exc:
        # Typer turns a KeyboardInterrupt in a command into Exit(130), then SystemExit(130),
        # without a word: find the interrupt in the chain and say what it left.
        if exc.code == 130 and _interrupt_in(exc):
            _interrupted()
        raise
    except Exception:
        # DuckDB, interrupted inside a query, raises RuntimeError("Query interrupted") in place
        # of the KeyboardInterrupt the signal handler raised.
        if signalled:
            _interrupted()
        raise
    finally:
        signalled.restore()
        logs.reset()  # a program that calls main() again (the tests) starts afresh


class _Sigint:
    """Whether SIGINT arrived while a command ran: the handler still raises KeyboardInterrupt
    (Python's default), and also notes the signal, which a driver may turn into an error of
    its own."""

    def __init__(self) -> None:
        self.arrived = False
        self.previous: object = None

    def __bool__(self) -> bool:
        return self.arrived

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.arrived = True
        raise KeyboardInterrupt

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)  # type: ignore[arg-type]


def _note_sigint() -> _Sigint:
    noted = _Sigint()
    # Only over Python's own handler, in the main thread (not over an embedding's, or an
    # ignored SIGINT).
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        noted.previous = signal.signal(signal.SIGINT, noted.handle)
    return noted


def _interrupt_in(exc: BaseException) -> bool:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        # `raise … from None` (cluster's own interrupt line, already printed) ends the chain.
        hidden = cause.__suppress_context__
        cause = cause.__cause__ or (None if hidden else cause.__context__)
    return False


def _interrupted() -> NoReturn:
    logs.line(_INTERRUPTED[0], logging.ERROR)
    raise SystemExit(130) from None
