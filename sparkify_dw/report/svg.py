"""SVG charts from labels and values: pure Python, no fonts, scripts or links.

`bar_chart`, `hbar_chart` (rankings) and `line_chart` (daily series) take labels and values and
return a standalone `<svg>` document (it also inlines in HTML as it is), as a `Chart`: a `str`
that a notebook shows as an image. Text is XML-escaped, the value axis starts at 0 and runs to
a round number, and each bar or point has a `<title>` (a tooltip in a browser) with its exact
value. Fonts are the reader's own sans-serif. Nothing
here knows about the warehouse: the analytics queries' charts are in `report.charts`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from html import escape, unescape
from typing import Any

WIDTH = 640
HEIGHT = 320
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', Arial, sans-serif"
COLOR = "#3b6fb6"
AXIS = "#444"
GRID = "#e3e3e3"
MUTED = "#666"
CHAR_WIDTH = 6.6  # rough width of a 12px sans-serif character, for sizing label margins
MAX_BAR = 96  # widest vertical bar: two bars do not fill a chart
MAX_LABEL = 42  # longer labels are shortened with "…" (the full text stays in the tooltip)


class Chart(str):
    """A chart: its SVG document as text (a `str`: written to a file, inlined in HTML or
    compared as before), that a notebook shows as an image (`_repr_svg_`)."""

    __slots__ = ()

    @property
    def heading(self) -> str:  # not `title`: str.title() is a method callers may use
        """The chart's title."""
        found = re.search(r"<title>(.*?)</title>", self)
        return unescape(found.group(1)) if found else ""

    def _repr_svg_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        # Not the whole document: a notebook prints the repr beside the image, as text/plain.
        return f"<Chart {self.heading!r}: SVG, {len(self):,} characters>"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    """A coordinate, short: 12.5, 3, -0.25."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fmt(value: float) -> str:
    """A value as people read it: 1,234 or 12.5."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def nice_ticks(maximum: float, count: int = 5, *, integer: bool = True) -> list[float]:
    """Ticks from 0 to a round number at or above `maximum`, about `count` steps apart."""
    if not math.isfinite(maximum) or maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    steps = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def _open(width: float, height: float, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="{_num(width)}" height="{_num(height)}" role="img" aria-label="{_e(title)}" '
        f'font-family="{_e(FONT)}" font-size="12" class="chart">',
        f"<title>{_e(title)}</title>",
        f'<rect width="{_num(width)}" height="{_num(height)}" fill="#fff"/>',
        f'<text x="{_num(width / 2)}" y="22" text-anchor="middle" font-size="15" '
        f'font-weight="600" fill="#222">{_e(title)}</text>',
    ]


def _empty(lines: list[str], width: float, height: float) -> Chart:
    lines.append(
        f'<text x="{_num(width / 2)}" y="{_num(height / 2)}" text-anchor="middle" '
        f'fill="{MUTED}">no data</text>'
    )
    lines.append("</svg>")
    return Chart("\n".join(lines))


def _check(labels: Sequence[Any], values: Sequence[float]) -> list[float]:
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels for {len(values)} values")
    numbers = [float(v) if v is not None else 0.0 for v in values]
    if any(not math.isfinite(v) for v in numbers):
        raise ValueError("values must be finite numbers")
    return numbers


def bar_chart(
    labels: Sequence[Any],
    values: Sequence[float],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    width: int = WIDTH,
    height: int = HEIGHT,
    color: str = COLOR,
) -> Chart:
    """Vertical bars, one per label, on a value axis from 0 (negative values are drawn as 0)."""
    numbers = _check(labels, values)
    lines = _open(width, height, title)
    if not numbers:
        return _empty(lines, width, height)
    ticks = nice_ticks(max(numbers))
    tick_width = max(len(fmt(t)) for t in ticks) * CHAR_WIDTH
    left = 24 + tick_width + (16 if y_label else 0)
    right, top, bottom = 16, 40, 46 + (16 if x_label else 0)
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h

    def y(value: float) -> float:
        return base - max(value, 0.0) / ticks[-1] * plot_h

    lines += _value_grid_y(ticks, left, width - right, y)
    slot = plot_w / len(numbers)
    gap = min(slot * 0.2, 12)
    longest = min(max(len(str(label)) for label in labels), 16)
    every = max(1, math.ceil((longest + 1) * CHAR_WIDTH / slot))  # every `every`-th label fits
    fits = max(3, int(every * slot / CHAR_WIDTH) - 1)
    for i, (label, value) in enumerate(zip(labels, numbers, strict=True)):
        bar = min(slot - gap, MAX_BAR)
        x = left + (i + 0.5) * slot - bar / 2
        top_y = y(value)
        lines.append(
            f'<rect x="{_num(x)}" y="{_num(top_y)}" width="{_num(bar)}" '
            f'height="{_num(base - top_y)}" fill="{_e(color)}">'
            f"<title>{_e(label)}: {_e(fmt(value))}</title></rect>"
        )
        if len(numbers) <= 12:  # few bars: their values above them
            lines.append(
                f'<text x="{_num(left + (i + 0.5) * slot)}" y="{_num(top_y - 5)}" '
                f'text-anchor="middle" fill="{MUTED}">{_e(fmt(value))}</text>'
            )
        if i % every == 0:
            lines.append(
                f'<text x="{_num(left + (i + 0.5) * slot)}" y="{_num(base + 16)}" '
                f'text-anchor="middle" fill="{AXIS}">{_e(_short(str(label), fits))}</text>'
            )
    lines.append(_axis_line(left, base, width - right, base))
    lines += _axis_labels(width, height, left, right, top, base, x_label, y_label)
    lines.append("</svg>")
    return Chart("\n".join(lines))


def hbar_chart(
    labels: Sequence[Any],
    values: Sequence[float],
    *,
    title: str,
    x_label: str = "",
    width: int = WIDTH,
    bar_height: int = 22,
    color: str = COLOR,
) -> Chart:
    """Horizontal bars, top to bottom in the order given: a ranking, longest labels shortened."""
    numbers = _check(labels, values)
    top, bottom = 40, 34 + (18 if x_label else 0)
    height = top + bottom + max(len(numbers), 1) * bar_height
    lines = _open(width, height, title)
    if not numbers:
        return _empty(lines, width, height)
    shown = [_short(str(label)) for label in labels]
    left = min(max(len(s) for s in shown) * CHAR_WIDTH + 20, width * 0.5)
    right = 24 + len(fmt(max(numbers))) * CHAR_WIDTH
    plot_w = width - left - right
    ticks = nice_ticks(max(numbers))
    base = top + len(numbers) * bar_height

    def x(value: float) -> float:
        return left + max(value, 0.0) / ticks[-1] * plot_w

    for tick in ticks:
        tx = x(tick)
        lines.append(
            f'<line x1="{_num(tx)}" y1="{top}" x2="{_num(tx)}" y2="{_num(base)}" stroke="{GRID}"/>'
        )
        lines.append(
            f'<text x="{_num(tx)}" y="{_num(base + 16)}" text-anchor="middle" '
            f'fill="{AXIS}">{_e(fmt(tick))}</text>'
        )
    for i, (label, text, value) in enumerate(zip(labels, shown, numbers, strict=True)):
        y = top + i * bar_height
        middle = y + bar_height / 2
        lines.append(
            f'<text x="{_num(left - 8)}" y="{_num(middle)}" text-anchor="end" '
            f'dominant-baseline="central" fill="#222">{_e(text)}</text>'
        )
        lines.append(
            f'<rect x="{_num(left)}" y="{_num(y + 3)}" width="{_num(x(value) - left)}" '
            f'height="{_num(bar_height - 6)}" fill="{_e(color)}">'
            f"<title>{_e(label)}: {_e(fmt(value))}</title></rect>"
        )
        lines.append(
            f'<text x="{_num(x(value) + 5)}" y="{_num(middle)}" dominant-baseline="central" '
            f'fill="{MUTED}">{_e(fmt(value))}</text>'
        )
    lines.append(_axis_line(left, top, left, base))
    if x_label:
        lines.append(
            f'<text x="{_num(left + plot_w / 2)}" y="{_num(height - 10)}" '
            f'text-anchor="middle" fill="{AXIS}">{_e(x_label)}</text>'
        )
    lines.append("</svg>")
    return Chart("\n".join(lines))


def line_chart(
    xs: Sequence[Any],
    values: Sequence[float],
    *,
    title: str,
    x_label: str = "",
    y_label: str = "",
    width: int = WIDTH,
    height: int = HEIGHT,
    color: str = COLOR,
    date_format: str = "%b %d",
) -> Chart:
    """A line through (x, value) points, x being dates (placed by day) or numbers, in order."""
    numbers = _check(xs, values)
    lines = _open(width, height, title)
    if not numbers:
        return _empty(lines, width, height)
    positions = [_position(x) for x in xs]
    ticks = nice_ticks(max(numbers))
    tick_width = max(len(fmt(t)) for t in ticks) * CHAR_WIDTH
    left = 24 + tick_width + (16 if y_label else 0)
    right, top, bottom = 24, 40, 46 + (16 if x_label else 0)
    plot_w, plot_h = width - left - right, height - top - bottom
    base = top + plot_h
    low, high = min(positions), max(positions)
    span = high - low

    def px(position: float) -> float:
        return left + plot_w / 2 if span == 0 else left + (position - low) / span * plot_w

    def py(value: float) -> float:
        return base - max(value, 0.0) / ticks[-1] * plot_h

    lines += _value_grid_y(ticks, left, width - right, py)
    points = [(px(p), py(v)) for p, v in zip(positions, numbers, strict=True)]
    path = " ".join(f"{_num(a)},{_num(b)}" for a, b in points)
    if len(points) > 1:
        area = f"{_num(points[0][0])},{_num(base)} {path} {_num(points[-1][0])},{_num(base)}"
        lines.append(f'<polygon points="{area}" fill="{_e(color)}" fill-opacity="0.12"/>')
        lines.append(
            f'<polyline points="{path}" fill="none" stroke="{_e(color)}" stroke-width="2" '
            'stroke-linejoin="round"/>'
        )
    radius = 3 if len(points) <= 60 else 1.5
    for (a, b), x, value in zip(points, xs, numbers, strict=True):
        lines.append(
            f'<circle cx="{_num(a)}" cy="{_num(b)}" r="{radius}" fill="{_e(color)}">'
            f"<title>{_e(_label(x, '%Y-%m-%d'))}: {_e(fmt(value))}</title></circle>"
        )
    count = min(len(points), max(2, int(plot_w // 80)))
    chosen = sorted({round(i * (len(points) - 1) / max(count - 1, 1)) for i in range(count)})
    for i in chosen:
        lines.append(
            f'<line x1="{_num(points[i][0])}" y1="{_num(base)}" x2="{_num(points[i][0])}" '
            f'y2="{_num(base + 4)}" stroke="{AXIS}"/>'
        )
        lines.append(
            f'<text x="{_num(points[i][0])}" y="{_num(base + 16)}" text-anchor="middle" '
            f'fill="{AXIS}">{_e(_label(xs[i], date_format))}</text>'
        )
    lines.append(_axis_line(left, base, width - right, base))
    lines += _axis_labels(width, height, left, right, top, base, x_label, y_label)
    lines.append("</svg>")
    return Chart("\n".join(lines))


def _position(x: Any) -> float:
    """Where x goes on the axis, in days: computed on numbers (day ordinals), never through
    `datetime.timestamp()`, so year 1 places as well as today."""
    if isinstance(x, dt.datetime):
        midnight = dt.datetime.combine(x.date(), dt.time(), x.tzinfo)
        return x.toordinal() + (x - midnight).total_seconds() / 86400
    if isinstance(x, dt.date):
        return float(x.toordinal())
    if isinstance(x, int | float) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, str) and (day := _day_of_text(x)) is not None:
        return day
    raise ValueError(f"line_chart x values must be dates or numbers, not {x!r}")


# A date as an engine writes one beyond Python's datetime (years after 9999, or BC): DuckDB's
# driver and the PostgreSQL backend hand such a value over as this text.
_ISO_DATE = re.compile(r"(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?")
_BC = re.compile(r"\s*\(?BC\)?")
_CYCLE_DAYS = 146_097  # the Gregorian calendar repeats every 400 years


def _parse_date_text(text: str) -> tuple[re.Match[str] | None, bool]:
    """The date (and hour, minute) of an engine's text, and whether it is BC (DuckDB writes
    `0001-12-31 (BC) 23:59:59`, PostgreSQL `0001-12-31 23:59:59 BC`)."""
    plain, marks = _BC.subn("", text.strip())
    return _ISO_DATE.match(plain), marks > 0


def _day_of_text(text: str) -> float | None:
    """The day ordinal (as `date.toordinal()`, proleptic Gregorian) of an ISO date's text."""
    match, bc = _parse_date_text(text)
    if match is None:
        return None
    year, month, day = (int(match[i]) for i in (1, 2, 3))
    if bc:
        year = 1 - year  # 1 BC is year 0
    cycles, within = divmod(year - 1, 400)
    try:
        ordinal = dt.date(within + 1, month, day).toordinal() + cycles * _CYCLE_DAYS
    except ValueError:
        return None
    hours = int(match[4] or 0) + int(match[5] or 0) / 60
    return ordinal + hours / 24


def _label(x: Any, date_format: str) -> str:
    if isinstance(x, dt.date):
        return x.strftime(date_format)
    if isinstance(x, str):  # a date beyond Python's, as the engine's text
        match, bc = _parse_date_text(x)
        return x if match is None else f"{match[1]}-{match[2]}-{match[3]}" + (" BC" if bc else "")
    return fmt(x)


def _value_grid_y(
    ticks: Sequence[float], left: float, right: float, y: Callable[[float], float]
) -> list[str]:
    lines = []
    for tick in ticks:
        ty = y(tick)
        lines.append(
            f'<line x1="{_num(left)}" y1="{_num(ty)}" x2="{_num(right)}" y2="{_num(ty)}" '
            f'stroke="{GRID}"/>'
        )
        lines.append(
            f'<text x="{_num(left - 6)}" y="{_num(ty)}" text-anchor="end" '
            f'dominant-baseline="central" fill="{AXIS}">{_e(fmt(tick))}</text>'
        )
    return lines


def _axis_line(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{AXIS}"/>'
    )


def _axis_labels(
    width: float,
    height: float,
    left: float,
    right: float,
    top: float,
    base: float,
    x_label: str,
    y_label: str,
) -> list[str]:
    lines = []
    if x_label:
        lines.append(
            f'<text x="{_num(left + (width - left - right) / 2)}" y="{_num(height - 10)}" '
            f'text-anchor="middle" fill="{AXIS}">{_e(x_label)}</text>'
        )
    if y_label:
        middle = (top + base) / 2
        lines.append(
            f'<text x="14" y="{_num(middle)}" text-anchor="middle" fill="{AXIS}" '
            f'transform="rotate(-90 14 {_num(middle)})">{_e(y_label)}</text>'
        )
    return lines
