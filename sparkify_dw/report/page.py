"""The HTML page of the report: row counts, data-quality checks and charts, in one file.

`write_report(bind, out)` reads the database (on one connection) and writes one self-contained
HTML file: inline CSS and inline SVG (`report.charts`), no script, no link to anything,
so it opens offline and can be mailed or archived as it is. The database URL is shown with its
password masked. A database without the warehouse is a NoWarehouseError, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from sparkify_dw import __version__
from sparkify_dw.analytics import require_warehouse, run_query
from sparkify_dw.checks import CheckResult, Severity, run_checks
from sparkify_dw.errors import ConfigError, DatabaseError, driver_reason
from sparkify_dw.files import write_atomically
from sparkify_dw.history import LoadRecord, history
from sparkify_dw.loader import count_rows
from sparkify_dw.models import TABLES
from sparkify_dw.report.charts import chart_of
from sparkify_dw.urls import redact_url
from sparkify_dw.warehouse import connect

# The charts, in the report's order: (query, filters).
CHART_QUERIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("plays-by-hour", {}),
    ("plays-by-weekday", {}),
    ("daily-active-users", {}),
    ("level-split", {}),
    ("top-songs", {"limit": 10}),
    ("top-artists", {"limit": 10}),
)

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #222;
  font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', Arial,
  sans-serif; }
header { background: #1f3b63; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 6px; font-size: 24px; font-weight: 600; }
header dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px;
  font-size: 13px; opacity: .9; }
header dt { font-weight: 600; } header dd { margin: 0; font-family: ui-monospace, monospace; }
main { max-width: 1360px; margin: 0 auto; padding: 16px 32px 40px; }
section { margin-top: 20px; min-width: 0; }
.overview { display: grid; grid-template-columns: minmax(220px, 300px) 1fr; gap: 0 24px; }
h2 { font-size: 18px; margin: 0 0 10px; font-weight: 600; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 16px; }
.card { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12);
  padding: 12px; overflow: hidden; }
.card svg { display: block; width: 100%; height: auto; }
.charts { grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e6e6e6;
  vertical-align: top; }
th { background: #fafafa; font-weight: 600; font-size: 13px; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.name { font-family: ui-monospace, monospace; white-space: nowrap; }
td .desc { color: #666; font-size: 12px; white-space: normal; font-family: system-ui,
  -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', Arial, sans-serif; }
.badge, td.num { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; }
.pass { background: #e3f4e6; color: #1c6b2d; }
.fail { background: #fbe3e3; color: #a11d1d; }
.warn { background: #fff1d6; color: #8a5a00; }
tr.row-fail td { background: #fdf1f1; } tr.row-warn td { background: #fffaf0; }
.summary { margin: 0 0 10px; }
footer { color: #777; font-size: 12px; text-align: center; padding: 0 0 24px; }
"""


@dataclass(frozen=True)
class ReportData:
    """What the report shows, read from the database."""

    database: str
    generated: dt.datetime
    counts: dict[str, int]
    checks: list[CheckResult]
    charts: list[tuple[str, str]]  # (query name, SVG)
    loads: list[LoadRecord] = field(default_factory=list)  # the last loads, newest first


# How many of the last loads the report lists
REPORT_LOADS = 10


def collect(bind: Engine | Connection) -> ReportData:
    """Read the counts, the checks' results and the charts' queries, on one connection."""
    database = redact_url(bind.engine.url)
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with connect(bind) as connection:
        require_warehouse(connection)  # NoWarehouseError: one line, nothing written
        checks = run_checks(connection)
        try:
            counts = count_rows(connection, TABLES.all)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"Cannot count rows on {database}: {driver_reason(exc)}") from None
        charts: list[tuple[str, str]] = [
            (name, chart_of(run_query(connection, name, **filters)))
            for name, filters in CHART_QUERIES
        ]
        try:
            loads = history(connection, REPORT_LOADS)
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"Cannot read the loads on {database}: {driver_reason(exc)}"
            ) from None
    return ReportData(database, generated, counts, checks, charts, loads)


def write_report(bind: Engine | Connection, out: Path | str) -> Path:
    """Write the HTML report of the warehouse at `bind` to `out` and return its path.

    The file is written whole or not at all (a temporary file renamed into place); its folder
    is created when missing. Reads only: the database is not changed.
    """
    path = Path(out).expanduser()
    document = render(collect(bind))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, document)
    except OSError as exc:
        raise ConfigError(f"Cannot write the report to {path}: {exc.strerror or exc}") from None
    return path


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def render(data: ReportData) -> str:
    """The HTML document of a report."""
    when = data.generated.strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Sparkify warehouse report — {_e(when)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>Sparkify warehouse report</h1>",
        "<dl>",
        f'<dt>Generated</dt><dd><time datetime="{_e(data.generated.isoformat())}">'
        f"{_e(when)}</time></dd>",
        f"<dt>Database</dt><dd>{_e(data.database)}</dd>",
        "</dl>",
        "</header>",
        "<main>",
        '<div class="overview">',
        _counts_section(data.counts),
        _checks_section(data.checks),
        "</div>",
        '<section id="charts"><h2>Plays</h2><div class="cards charts">',
        *(
            f'<figure class="card" id="chart-{_e(name)}" style="margin:0">{svg}</figure>'
            for name, svg in data.charts
        ),
        "</div></section>",
        _loads_section(data.loads),
        "</main>",
        f"<footer>sparkify-dw {_e(__version__)}</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _counts_section(counts: dict[str, int]) -> str:
    rows = "".join(
        f'<tr><td class="name">{_e(table)}</td><td class="num">{count:,}</td></tr>'
        for table, count in counts.items()
    )
    return (
        '<section id="counts"><h2>Rows per table</h2><div class="card">'
        '<table><thead><tr><th>table</th><th class="num">rows</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _loads_section(loads: Sequence[LoadRecord]) -> str:
    rows = []
    for load in loads:
        css = {"succeeded": "pass", "failed": "fail"}.get(load.status, "warn")
        added = f"{load.plays_added:+,}" if load.plays_added is not None else ""
        files = "/".join(
            f"{n:,}" if n is not None else "-"
            for n in (load.files_new, load.files_changed, load.files_skipped)
        )
        rows.append(
            f'<tr class="load row-{css}"><td>{_e(load.started_at.strftime("%Y-%m-%d %H:%M:%S"))}'
            f"</td>"
            f'<td><span class="badge {css}">{_e(load.status)}</span></td>'
            f'<td class="num">{_e(f"{load.seconds:.1f}" if load.seconds is not None else "")}</td>'
            f"<td>{_e(load.database_user or '')}</td>"
            f'<td class="num">{_e(f"{load.rows_staged:,}" if load.rows_staged is not None else "")}'
            f"</td>"
            f'<td class="num">{_e(files)}</td>'
            f'<td class="num">{_e(added)}</td>'
            f'<td class="desc">{_e(load.error or "")}</td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="8">No load recorded yet.</td></tr>'
    return (
        f'<section id="loads"><h2>Last loads</h2><div class="card"><table><thead><tr>'
        '<th>started (UTC)</th><th>status</th><th class="num">seconds</th><th>user</th>'
        '<th class="num">rows staged</th><th class="num">files new/changed/skipped</th>'
        '<th class="num">plays added</th><th>error</th></tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def _state(result: CheckResult) -> tuple[str, str]:
    if result.passed:
        return "pass", "passed"
    if result.severity is Severity.WARNING:
        return "warn", "warning"
    return "fail", "FAILED"


def _checks_section(results: Sequence[CheckResult]) -> str:
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    warned = len(results) - passed - failed
    rows = []
    for result in results:
        css, label = _state(result)
        rows.append(
            f'<tr class="check row-{css}"><td class="name">{_e(result.name)}'
            f'<div class="desc">{_e(result.description)}</div></td>'
            f"<td>{_e(result.severity.value)}</td>"
            f'<td class="num">{result.offending:,}</td>'
            f'<td><span class="badge {css}">{label}</span></td></tr>'
        )
    return (
        '<section id="checks"><h2>Data-quality checks</h2>'
        f'<p class="summary">{len(results)} checks: {passed} passed, {failed} failed, '
        f"{warned} warning(s)</p>"
        '<div class="card"><table><thead><tr><th>check</th><th>severity</th>'
        '<th class="num">offending rows</th><th>result</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )
