"""The SVG charts (sparkify_dw.report.svg) from labels and values: no warehouse, no files.

The charts of a warehouse's queries and the report: tests/integration/test_report.py.
"""

from __future__ import annotations

import pytest

from sparkify_dw import charts as charts_address
from sparkify_dw.report.charts import CHARTS, chart
from sparkify_dw.report.svg import bar_chart, hbar_chart, line_chart, nice_ticks
from tests.helpers import SVG, parse_svg, svg_texts


def test_nice_ticks_start_at_zero_and_reach_a_round_number() -> None:
    assert nice_ticks(45) == [0, 10, 20, 30, 40, 50]
    assert nice_ticks(110) == [0, 25, 50, 75, 100, 125]
    assert nice_ticks(1448)[-1] == 1500
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(0.3, integer=False)[-1] >= 0.3


def test_charts_escape_text_and_are_well_formed() -> None:
    nasty = "Rock & Roll <live> \"quoted\" 'single'"
    for svg in (
        bar_chart([nasty, "b"], [3, 5], title=nasty, x_label="<x>", y_label="&y"),
        hbar_chart([nasty, "b" * 200], [7, 2], title=nasty, x_label="plays"),
        line_chart([1, 2, 3], [1, 4, 2], title=nasty, x_label="x & y"),
    ):
        root = parse_svg(svg)
        texts = svg_texts(root)
        assert nasty in texts
        assert "<live>" not in svg  # escaped, not markup
        assert root.get("viewBox", "").startswith("0 0 ")
    long_label = hbar_chart(["b" * 200], [1], title="t")
    assert "b" * 200 not in svg_texts(parse_svg(long_label))  # shortened on the axis…
    assert "b" * 200 in long_label  # … and whole in the tooltip


def test_charts_scale_values_into_the_plot() -> None:
    root = parse_svg(bar_chart(["a", "b", "c"], [10, 20, 40], title="t", height=300))
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    heights = [float(r.get("height", "nan")) for r in bars]
    assert heights[0] == pytest.approx(heights[2] / 4)
    assert heights[1] == pytest.approx(heights[2] / 2)
    assert all(0 < float(r.get("y", "nan")) < 300 for r in bars)


def test_charts_with_no_data_say_so() -> None:
    for svg in (
        bar_chart([], [], title="empty"),
        hbar_chart([], [], title="empty"),
        line_chart([], [], title="empty"),
    ):
        assert "no data" in svg_texts(parse_svg(svg))
    with pytest.raises(ValueError, match="labels"):
        bar_chart(["a"], [1, 2], title="t")


def test_charts_old_address_re_exports_the_same_functions() -> None:
    # README imports from sparkify_dw.charts: it must stay the report's functions, not a copy.
    assert charts_address.chart is chart
    assert charts_address.CHARTS is CHARTS
    for draw in (bar_chart, hbar_chart, line_chart, nice_ticks):
        assert getattr(charts_address, draw.__name__) is draw


def test_line_chart_places_dates_beyond_pythons_as_their_text() -> None:
    """A day after 9999 (or BC) reaches the chart as the engine's text (issue 15): placed by
    its day number, labelled as it is, never a ValueError."""
    import datetime as dt

    from sparkify_dw.report.svg import _position, line_chart

    xs = [dt.date(1, 1, 1), dt.datetime(9999, 12, 31, 12), "10000-01-01", "294247-01-10"]
    svg = line_chart(xs, [1, 2, 3, 4], title="t")
    assert "10000-01-01" in svg
    assert "294247-01-10" in svg
    positions = [_position(x) for x in xs]
    assert positions == sorted(positions)
    assert _position("10000-01-01") - _position(dt.date(9999, 12, 31)) == 1
    assert _position("0001-12-31 (BC) 23:59:59.999") < _position(dt.date(1, 1, 1))
    assert _position("0001-12-31 BC") == _position(dt.date(1, 1, 1)) - 1
