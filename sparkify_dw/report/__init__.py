"""The warehouse's report: a one-file HTML page, and the SVG charts it shows.

- `page`: `write_report(bind, out)`, the HTML page (counts, checks, charts);
- `charts`: `chart(bind, name, **filters)`, the chart of each analytics query (`CHARTS`);
- `svg`: the drawing primitives `bar_chart`, `hbar_chart` and `line_chart`, pure Python.

Each imports only those after it. `sparkify_dw.charts` re-exports the charts under their old name.
"""

from __future__ import annotations

from sparkify_dw.report.charts import CHARTS, chart, chart_of
from sparkify_dw.report.page import CHART_QUERIES, CSS, ReportData, collect, render, write_report
from sparkify_dw.report.svg import Chart, bar_chart, hbar_chart, line_chart, nice_ticks

__all__ = [
    "CHARTS",
    "CHART_QUERIES",
    "CSS",
    "Chart",
    "ReportData",
    "bar_chart",
    "chart",
    "chart_of",
    "collect",
    "hbar_chart",
    "line_chart",
    "nice_ticks",
    "render",
    "write_report",
]
