"""How results show themselves, without a database: short reprs, escaped HTML, the chart as a
`str` that is also an image, and the load's progress in a notebook or on a terminal (issue 16).
With a warehouse: tests/integration/test_display.py; in Jupyter: test_notebook.py beside it."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from sparkify_dw import LoadReport, TableCount
from sparkify_dw.analytics import Result
from sparkify_dw.checks import CheckResult, CheckResults, Severity
from sparkify_dw.copy.options import CopyResult, FileStats
from sparkify_dw.display import html_table, in_notebook
from sparkify_dw.progress import NotebookProgress, TerminalProgress, progress_for
from sparkify_dw.report.svg import Chart, bar_chart


def _report(files: int, warnings: int = 0) -> LoadReport:
    copy = CopyResult(
        "staging_songs",
        "/data/song_data",
        files,
        tuple(FileStats(f"/data/song_data/A/B/C/TRAAA{i:05d}.json", 1) for i in range(files)),
        warnings=tuple(f"warning {i}: " + "x" * 300 for i in range(warnings)),
    )
    return LoadReport(
        database="duckdb:///w.duckdb",
        load_id="id-1",
        copies=(copy,),
        tables=(TableCount("songs", 10, files, 3),),
    )


def test_a_report_of_many_files_has_a_short_repr() -> None:
    report = _report(20_000, warnings=10)
    text = repr(report)
    assert len(text) < 2_000
    assert "songs: 20,000 rows (+19,990, 3 changed)" in text
    assert "COPY staging_songs: 20,000 rows from 20,000 file(s), 0 rejected" in text
    assert text.count("warning ") == 3  # three quoted, the rest counted
    assert "… 7 more warning(s): all_warnings()" in text
    assert len(report.all_warnings()) == 10
    assert len(repr(report.copies[0])) < 200
    html = report._repr_html_()
    assert "<td>songs</td>" in html
    assert "TRAAA" not in html  # no file listed
    assert html.count("<li>") == 10
    assert len(_report(1, warnings=100)._repr_html_()) < 10_000


def test_html_tables_escape_and_cut_long_results() -> None:
    rows = [(i, "<script>alert(1)</script>") for i in range(60)]
    html = html_table(("n", "text"), rows, total=len(rows))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<tr>") == 51  # the header and 50 rows
    assert "… 10 more row(s)" in html

    result = Result("top-songs", ("n", "text"), rows)
    assert "<script>" not in result._repr_html_()
    text = repr(result)
    assert text.startswith("<Result top-songs: 60 row(s), 2 columns")
    assert "… 55 more row(s)" in text


def test_check_results_show_their_state() -> None:
    failed = CheckResult(
        "unique_users", "one users row per user_id", Severity.ERROR, 12, ({"user_id": 7},)
    )
    warned = CheckResult("load_errors_reviewed", "no rejects left", Severity.WARNING, 1)
    passed = CheckResult("unique_songs", "one songs row per song_id", Severity.ERROR, 0)
    results = CheckResults([failed, warned, passed])
    assert isinstance(results, list)
    assert not results.passed
    assert results.failures == [failed]
    assert results.summary() == "3 checks: 1 passed, 1 failed, 1 warning(s)"
    assert repr(failed) == "<CheckResult unique_users: FAILED, 12 offending, 1 example(s)>"
    assert repr(passed) == "<CheckResult unique_songs: passed, 0 offending>"
    html = results._repr_html_()
    assert "user_id=7" in html
    assert "… and 11 more" in html
    assert "unique_users" in failed._repr_html_()
    assert CheckResults([passed, warned]).passed  # a warning does not fail


def test_a_chart_is_the_svg_text_and_an_image() -> None:
    drawn = bar_chart(["a", "b"], [1, 2], title="Plays <by> hour")
    assert isinstance(drawn, Chart)
    assert isinstance(drawn, str)
    assert drawn.startswith("<svg")
    assert drawn._repr_svg_() == str(drawn)
    assert drawn.heading == "Plays <by> hour"
    assert drawn.title() == str(drawn).title()  # str's own method, untouched
    assert repr(drawn) == f"<Chart 'Plays <by> hour': SVG, {len(drawn):,} characters>"


def test_progress_outside_a_notebook() -> None:
    calls: list[tuple[str, int, int]] = []

    def callback(name: str, done: int, total: int) -> None:
        calls.append((name, done, total))

    with progress_for(callback) as given:
        assert given is callback
    for quiet in (None, False):
        with progress_for(quiet) as none:
            assert none is None
    assert not in_notebook()
    with progress_for(True) as shown:
        assert isinstance(shown, TerminalProgress)
        shown("staging_songs", 5, 10)
        shown("staging_songs", 10, 10)


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A stand-in for a Jupyter kernel's IPython: what it was asked to display."""
    shown: list[Any] = []

    class ZMQInteractiveShell:
        pass

    class Handle:
        def update(self, html: str) -> None:
            shown.append(html)

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    display = types.ModuleType("IPython.display")
    display.HTML = str  # type: ignore[attr-defined]

    def show(html: str, display_id: bool = False) -> Handle:
        assert display_id
        shown.append(html)
        return Handle()

    display.display = show  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    return shown


def test_progress_in_a_notebook_is_an_html_display_updated_in_place(notebook: list[Any]) -> None:
    assert in_notebook()
    with progress_for(None) as shown:
        assert isinstance(shown, NotebookProgress)
        shown("staging_songs", 0, 2_000_000)
        shown("staging_songs", 1_000_000, 2_000_000)  # within 0.25 s: not redrawn
        shown("staging_songs", 2_000_000, 2_000_000)  # complete: redrawn
    assert "checking the sources" in notebook[0]
    last = notebook[-1]
    assert '<progress value="2000000" max="2000000">' in last
    assert "100%" in last
    assert "2.0 MB / 2.0 MB" in last
    assert len(notebook) <= 4
    with progress_for(False) as none:
        assert none is None
