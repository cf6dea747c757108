"""Results that display themselves (issue 16): a load's report, query results, checks and charts
have short reprs and HTML for a notebook, rows go to pandas with dates as datetime64, and
`run()` returns the data-quality checks with its report."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkify_dw import LoadReport, Settings, make_engine, run
from sparkify_dw.analytics import run_query
from sparkify_dw.charts import chart, chart_of
from sparkify_dw.checks import CHECKS, CheckResults
from sparkify_dw.models import TABLES

pandas = pytest.importorskip("pandas", reason="pandas is in the test extra")


def _run(data: Path, db_url: str, **options: bool) -> LoadReport:
    settings = Settings.resolve(
        db_url=db_url,
        song_data=str(data / "song_data"),
        log_data=str(data / "log_data"),
        log_jsonpath=str(data / "log_json_path.json"),
    )
    return run(settings, **options)


def _says_the_totals(text: str, report: LoadReport) -> None:
    for count in report.tables:
        assert count.table in text
    assert f"{report.rows('songplays'):,}" in text
    for copy in report.copies:
        assert f"{copy.rows:,} rows from {len(copy.files):,} file(s)" in text


@pytest.mark.reference
@pytest.mark.slow
def test_the_reference_load_s_report_is_short_and_says_the_totals(
    reference_dir: Path, duckdb_url: str
) -> None:
    """The dataclass repr of this report was 246,060 characters: every file's FileStats."""
    report = _run(reference_dir, duckdb_url)
    songs = next(c for c in report.copies if c.table == "staging_songs")
    assert len(songs.files) > 1_000  # the case: many files
    text = repr(report)
    assert len(text) < 2_000, text
    _says_the_totals(text, report)
    assert "15 checks: 15 passed, 0 failed" in text
    assert len(repr(songs)) < 300
    html = report._repr_html_()
    assert len(html) < 20_000
    for count in report.tables:
        assert f"<td>{count.table}</td>" in html
    for copy in report.copies:
        assert f"<td>{copy.table}</td>" in html
        assert f">{copy.rows:,}</td>" in html
        assert f">{len(copy.files):,}</td>" in html


def test_run_returns_the_checks_with_its_report(sample_dir: Path, db_url: str) -> None:
    report = _run(sample_dir, db_url)
    assert isinstance(report.checks, CheckResults)
    assert [r.name for r in report.checks] == [c.name for c in CHECKS]
    assert report.checks.passed
    assert report.checks.failures == []
    text = repr(report)
    _says_the_totals(text, report)
    assert f"checks: {len(CHECKS)} checks: {len(CHECKS)} passed, 0 failed, 0 warning(s)" in text
    html = report._repr_html_()
    for table in TABLES.all:
        assert f"<td>{table.name}</td>" in html
    assert "star_tables_not_empty" in html
    frame = report.to_pandas()
    assert list(frame["table"]) == [t.name for t in TABLES.all]
    assert frame.set_index("table").loc["songplays", "after"] == report.rows("songplays")

    again = _run(sample_dir, db_url, checks=False)
    assert again.checks is None
    assert "checks:" not in repr(again)


def test_a_failed_check_is_in_the_report_not_raised(sample_dir: Path, duckdb_url: str) -> None:
    """The load is committed whatever the checks find: `run` returns them, the caller decides."""
    _run(sample_dir, duckdb_url, checks=False)
    engine = make_engine(duckdb_url)
    try:
        with engine.begin() as connection:  # a song whose artist is nowhere: kept by a merge
            connection.exec_driver_sql(
                "INSERT INTO songs (song_id, title, artist_id) VALUES ('SOX', '<b>x</b>', 'ARX')"
            )
    finally:
        engine.dispose()
    report = _run(sample_dir, duckdb_url, check_all=True)  # the song is no row the load names
    checks = report.checks
    assert checks is not None
    assert not checks.passed
    assert [r.name for r in checks.failures] == ["songs_have_artists"]
    text = repr(report)
    assert "15 checks: 14 passed, 1 failed, 0 warning(s)" in text
    assert "songs_have_artists: FAILED" in text
    (failed,) = checks.failures
    assert repr(failed) == "<CheckResult songs_have_artists: FAILED, 1 offending, 1 example(s)>"
    html = checks._repr_html_()
    assert "FAILED" in html
    assert "title=&lt;b&gt;x&lt;/b&gt;" in html  # the example, escaped
    assert "<b>x</b>" not in html
    frame = checks.to_pandas()
    assert frame.set_index("name").loc["songs_have_artists", "state"] == "FAILED"


def test_query_results_go_to_pandas_with_dates_as_datetime64(sample_dir: Path, db_url: str) -> None:
    _run(sample_dir, db_url, checks=False)
    engine = make_engine(db_url)
    try:
        daily = run_query(engine, "daily-active-users")
        frame = daily.to_pandas()
        assert str(frame["day"].dtype).startswith("datetime64"), frame.dtypes
        assert str(frame["active_users"].dtype) == "int64"
        assert len(frame) == len(daily.rows)
        conversions = run_query(engine, "conversions").to_pandas()
        for column in ("first_free_play", "converted_at"):
            assert str(conversions[column].dtype).startswith("datetime64"), conversions.dtypes

        text = repr(daily)
        assert text.startswith(f"<Result daily-active-users: {len(daily.rows)} row(s), 3 columns")
        assert text.count("\n") <= 8  # the first five rows, then a count
        html = daily._repr_html_()
        assert html.count("<tr>") == len(daily.rows) + 1  # under 50 rows: all, and the header

        drawn = chart_of(daily)
        assert drawn == chart(engine, "daily-active-users")
        assert drawn._repr_svg_().startswith("<svg")
    finally:
        engine.dispose()
