"""The charts (sparkify_dw.report.charts) and the HTML report, on the sample in a warehouse.

The report is written from the bundled sample loaded into DuckDB (and PostgreSQL when a server
answers), parsed, checked for anything external, and rendered in headless Chromium when it is
installed at /usr/bin/chromium. `sparkify-dw report`: tests/cli/test_report_command.py; the
SVG drawing itself: tests/unit/test_svg.py.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from sparkify_dw import make_engine, upgrade
from sparkify_dw.analytics import QUERIES, NoWarehouseError, QueryError
from sparkify_dw.config import SAMPLE_DIR
from sparkify_dw.loader import count_rows
from sparkify_dw.models import TABLES
from sparkify_dw.report import CHART_QUERIES, write_report
from sparkify_dw.report.charts import CHARTS, chart
from tests.helpers import SVG, load_dir, parse_svg, svg_texts, svgs

CHROMIUM = Path("/usr/bin/chromium")
CHART_IDS = [f"chart-{name}" for name, _ in CHART_QUERIES]


def _load_sample(url: str) -> None:
    engine = make_engine(url)
    try:
        load_dir(engine, SAMPLE_DIR)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sample_report(sample_warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    engine = make_engine(sample_warehouse)
    try:
        return write_report(engine, tmp_path_factory.mktemp("html") / "report.html")
    finally:
        engine.dispose()


def _assert_self_contained(html: str) -> None:
    lowered = html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", lowered)
    assert "<script" not in lowered
    assert "<link" not in lowered
    assert "@import" not in lowered
    assert "url(" not in lowered


# --- Charts ------------------------------------------------------------------------------------


def test_chart_draws_each_query_on_the_sample(sample_warehouse: str) -> None:
    engine = make_engine(sample_warehouse)
    try:
        hour = parse_svg(chart(engine, "plays-by-hour"))
        assert len([r for r in hour.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]) == 24
        daily = parse_svg(chart(engine, "daily-active-users", since="2018-11-10"))
        assert daily.find(f"{SVG}polyline") is not None
        assert "Daily active users (since 2018-11-10)" in svg_texts(daily)
        top = parse_svg(chart(engine, "top-songs", limit=3))
        assert "Top 3 songs" in svg_texts(top)
        assert set(CHARTS) == set(QUERIES)  # a chart for every query, for notebooks
        for name in QUERIES:
            parse_svg(chart(engine, name))
        assert "no data" in svg_texts(parse_svg(chart(engine, "conversions")))  # none in the sample
        agents = svg_texts(parse_svg(chart(engine, "top-user-agents")))
        assert any(" on " in text for text in agents)
        with pytest.raises(QueryError, match="No chart for 'nope'"):
            chart(engine, "nope")
    finally:
        engine.dispose()


# --- The report --------------------------------------------------------------------------------


def test_report_has_counts_checks_and_charts(sample_report: Path, sample_warehouse: str) -> None:
    html = sample_report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "Sparkify warehouse report" in html
    assert re.search(r"Generated</dt><dd><time datetime=\"\d{4}-\d\d-\d\dT", html)
    engine = make_engine(sample_warehouse)
    try:
        with engine.connect() as connection:
            counts = count_rows(connection, TABLES.all)
    finally:
        engine.dispose()
    assert counts["songplays"] > 0
    for table, count in counts.items():
        assert f'<td class="name">{table}</td><td class="num">{count:,}</td>' in html
    check_rows = re.findall(r'<tr class="check row-(pass|fail|warn)">', html)
    assert len(check_rows) >= 10
    assert set(check_rows) == {"pass"}
    for name in ("star_tables_not_empty", "unique_plays", "load_errors_reviewed"):
        assert f'<td class="name">{name}<div' in html
    inline = svgs(html)
    assert len(inline) >= 5
    for svg in inline:
        parse_svg(svg)
    for chart_id in CHART_IDS:
        assert f'id="{chart_id}"' in html
    # the last loads, from the loads table: the sample's one load, succeeded
    engine = make_engine(sample_warehouse)
    try:
        with engine.connect() as connection:
            loads = connection.execute(sa.text("SELECT status, rows_staged FROM loads")).all()
    finally:
        engine.dispose()
    assert '<section id="loads"><h2>Last loads</h2>' in html
    assert len(re.findall(r'<tr class="load row-pass">', html)) == len(loads) == 1
    assert f'<td class="num">{loads[0].rows_staged:,}</td>' in html
    _assert_self_contained(html)


def test_report_of_an_empty_warehouse_shows_failed_checks(tmp_path: Path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    try:
        with engine.begin() as connection:
            upgrade(connection)
        html = write_report(engine, tmp_path / "deep" / "er" / "report.html").read_text()
    finally:
        engine.dispose()
    assert '<tr class="check row-fail"><td class="name">star_tables_not_empty' in html
    assert html.count(">no data</text>") == len(CHART_QUERIES)
    for svg in svgs(html):
        parse_svg(svg)


def test_report_needs_a_warehouse(tmp_path: Path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path / 'bare.duckdb'}")
    try:
        with pytest.raises(NoWarehouseError, match="run `sparkify-dw run` first"):
            write_report(engine, tmp_path / "report.html")
    finally:
        engine.dispose()
    assert not (tmp_path / "report.html").exists()


@pytest.mark.postgres
def test_report_on_postgresql_masks_the_password(postgres_url: str, tmp_path: Path) -> None:
    _load_sample(postgres_url)
    # The test server trusts 127.0.0.1, so any password connects: it must not be shown.
    url = sa.make_url(postgres_url).set(password="s3cret-pw")
    engine = make_engine(url)
    try:
        html = write_report(engine, tmp_path / "pg.html").read_text(encoding="utf-8")
    finally:
        engine.dispose()
    assert "s3cret-pw" not in html
    assert "***" in html
    assert len(svgs(html)) >= 5
    assert '<tr class="check row-fail">' not in html
    _assert_self_contained(html)


# --- In a browser ------------------------------------------------------------------------------


def _png_size_and_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, width, height, idat = 8, 0, 0, b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
)
def test_report_renders_in_headless_chromium(sample_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2400",
        f"--screenshot={shot}",
        sample_report.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert shot.is_file(), f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    width, height, pixels = _png_size_and_pixels(shot)
    assert (width, height) == (1280, 2400)
    assert shot.stat().st_size > 30_000  # a blank page compresses to a few KB
    assert len(set(pixels)) > 64  # many colours, not one uniform background
    rows = len(pixels) // height
    distinct_rows = {pixels[i * rows + 1 : (i + 1) * rows] for i in range(0, height, 8)}
    assert len(distinct_rows) > 50  # content all the way down, not one repeated line
