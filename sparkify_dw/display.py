"""How the library's results show themselves in a notebook: HTML tables, short reprs, pandas.

Jupyter calls an object's `_repr_html_` (and `_repr_svg_`) when a cell's value is displayed;
`LoadReport`, `Result`, `CheckResult`, `CheckResults` and `Chart` have them, built from the
helpers here. Nothing here imports pandas or IPython until it is asked for (both optional).
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from sparkify_dw.errors import SparkifyError

MAX_HTML_ROWS = 50  # rows an HTML table shows; the rest are counted in a last line
MAX_TEXT = 80  # a value longer than this is cut short with "…" in a repr or a table cell

# Small, and neutral: Jupyter's own table style applies; these only align the numbers.
_TABLE = '<table class="sparkify-dw" style="border-collapse:collapse">'


def short(value: Any, limit: int = MAX_TEXT) -> str:
    """A value as text, cut to `limit` characters (NULL for None)."""
    if value is None:
        return "NULL"
    if isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ")
    elif isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    else:
        text = str(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    total: int | None = None,
    max_rows: int = MAX_HTML_ROWS,
) -> str:
    """An HTML table, every value escaped; numbers right-aligned; `max_rows` shown, and a line
    counting the rest (`total`: how many rows there are, when `rows` holds only the first)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = []
    shown = 0
    for row in rows:
        if shown == max_rows:
            break
        cells = "".join(_cell(value) for value in row)
        body.append(f"<tr>{cells}</tr>")
        shown += 1
    parts = [_TABLE, f"<thead><tr>{head}</tr></thead>", "<tbody>", *body, "</tbody></table>"]
    if total is not None and total > shown:
        parts.append(f"<p><small>… {total - shown:,} more row(s)</small></p>")
    return "".join(parts)


def _cell(value: Any) -> str:
    numeric = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    align = ' style="text-align:right"' if numeric else ""
    return f"<td{align}>{escape(short(value))}</td>"


def import_pandas(what: str) -> Any:
    """pandas, or a SparkifyError saying that `what` needs it and how to install it."""
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise SparkifyError(
            f"{what} needs pandas, which is not installed: pip install 'sparkify-dw[notebook]'"
        ) from None


def data_frame(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    what: str,
    *,
    temporal: Collection[str] = (),
) -> Any:
    """A pandas DataFrame of `rows`; the `temporal` columns, and any other whose values are all
    dates or datetimes, become datetime64 (an empty one too, when named in `temporal`).

    Drivers return `datetime.date` for a DATE, which pandas keeps as an `object` column:
    no `.dt`, no time axis in a plot, no resampling. Every other column is as pandas infers.
    """
    pandas = import_pandas(what)
    frame = pandas.DataFrame.from_records(list(rows), columns=list(columns))
    for column in frame.columns:
        values = [v for v in frame[column] if v is not None]
        dates = bool(values) and all(isinstance(v, dt.date) for v in values)
        if column in temporal or dates:
            frame[column] = pandas.to_datetime(frame[column])
    return frame


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython's ZMQ shell, or a subclass of it as
    in Colab): where an HTML display shows. Never imports IPython: a kernel has already."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return any(kind.__name__ == "ZMQInteractiveShell" for kind in type(shell).__mro__)
