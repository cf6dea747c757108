"""The charts' first address, kept so that `from sparkify_dw.charts import chart` still works.

They live in `sparkify_dw.report`: the analytics queries' charts in `report.charts`, the drawing
primitives in `report.svg`. Every public name this module had is re-exported here.
"""

from __future__ import annotations

from sparkify_dw.report.charts import CHARTS, SHORT_DAYS, chart, chart_of
from sparkify_dw.report.svg import (
    AXIS,
    CHAR_WIDTH,
    COLOR,
    FONT,
    GRID,
    HEIGHT,
    MAX_BAR,
    MAX_LABEL,
    MUTED,
    WIDTH,
    Chart,
    bar_chart,
    hbar_chart,
    line_chart,
    nice_ticks,
)

__all__ = [
    "AXIS",
    "CHARTS",
    "CHAR_WIDTH",
    "COLOR",
    "FONT",
    "GRID",
    "HEIGHT",
    "MAX_BAR",
    "MAX_LABEL",
    "MUTED",
    "SHORT_DAYS",
    "WIDTH",
    "Chart",
    "bar_chart",
    "chart",
    "chart_of",
    "hbar_chart",
    "line_chart",
    "nice_ticks",
]
