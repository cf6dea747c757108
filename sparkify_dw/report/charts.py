"""The natural chart of each analytics query, as SVG (drawn with `report.svg`).

`chart(bind, name, **filters)` runs an analytics query (`sparkify_dw.analytics`) and draws its
chart as a `Chart`: SVG text that a notebook shows as an image (`chart(engine, "plays-by-hour")`
as a cell's value). `chart_of` draws a `Result` already at hand; `CHARTS`
maps each query to its chart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from sparkify_dw.analytics import QueryError, Result, run_query
from sparkify_dw.report.svg import Chart, bar_chart, fmt, hbar_chart, line_chart
from sparkify_dw.timeparts import WEEKDAYS

SHORT_DAYS = tuple(day[:3] for day in WEEKDAYS)  # Sun, Mon, …


def _subtitle(result: Result) -> str:
    given = result.filters.given()
    given.pop("limit", None)
    return f" ({', '.join(f'{k} {v}' for k, v in given.items())})" if given else ""


def _plays_by_hour(result: Result) -> str:
    by_hour = {r["hour"]: r["plays"] for r in result.records()}
    hours = list(range(24)) if by_hour else []  # every hour, a quiet one as an empty slot
    return bar_chart(
        [f"{h:02d}" for h in hours],
        [by_hour.get(h, 0) for h in hours],
        title="Plays by hour of the day" + _subtitle(result),
        x_label="hour (UTC)",
        y_label="plays",
    )


def _plays_by_weekday(result: Result) -> str:
    by_day = {r["weekday"]: r["plays"] for r in result.records()}
    days = range(7) if by_day else range(0)
    return bar_chart(
        [SHORT_DAYS[d] for d in days],
        [by_day.get(d, 0) for d in days],
        title="Plays by day of the week" + _subtitle(result),
        x_label="day of the week (UTC)",
        y_label="plays",
    )


def _daily_active_users(result: Result) -> str:
    records = result.records()
    return line_chart(
        [r["day"] for r in records],
        [r["active_users"] for r in records],
        title="Daily active users" + _subtitle(result),
        x_label="day (UTC)",
        y_label="users",
    )


def _level_split(result: Result) -> str:
    records = result.records()
    return bar_chart(
        [f"{r['level']} ({fmt(r['users'])} users)" for r in records],
        [r["plays"] for r in records],
        title="Plays by level" + _subtitle(result),
        x_label="level",
        y_label="plays",
    )


def _top_songs(result: Result) -> str:
    records = result.records()
    return hbar_chart(
        [f"{r['title'] or r['song_id']} — {r['artist_name'] or '?'}" for r in records],
        [r["plays"] for r in records],
        title=f"Top {len(records)} songs" + _subtitle(result),
        x_label="plays",
    )


def _top_artists(result: Result) -> str:
    records = result.records()
    return hbar_chart(
        [r["artist_name"] or r["artist_id"] for r in records],
        [r["plays"] for r in records],
        title=f"Top {len(records)} artists" + _subtitle(result),
        x_label="plays",
    )


def _top_locations(result: Result) -> str:
    records = result.records()
    return hbar_chart(
        [r["location"] for r in records],
        [r["plays"] for r in records],
        title=f"Top {len(records)} locations" + _subtitle(result),
        x_label="plays",
    )


def _top_user_agents(result: Result) -> str:
    records = result.records()
    return hbar_chart(
        [f"{r['browser']} on {r['os']}" for r in records],
        [r["plays"] for r in records],
        title="Plays by browser and OS" + _subtitle(result),
        x_label="plays",
    )


def _session_length(result: Result) -> str:
    records = result.records()
    return bar_chart(
        [str(r["plays_per_session"]) for r in records],
        [r["sessions"] for r in records],
        title="Sessions by plays per session" + _subtitle(result),
        x_label="plays in the session",
        y_label="sessions",
    )


def _conversions(result: Result) -> str:
    # Conversions per day: a user's converted_at is the first paid play after a free one.
    per_day: dict[str, int] = {}
    for r in result.records():
        day = str(r["converted_at"])[:10]
        per_day[day] = per_day.get(day, 0) + 1
    days = sorted(per_day)
    return bar_chart(
        days,
        [per_day[d] for d in days],
        title="Free → paid conversions per day" + _subtitle(result),
        x_label="day (UTC)",
        y_label="users",
    )


CHARTS: dict[str, Callable[[Result], str]] = {
    "conversions": _conversions,
    "top-locations": _top_locations,
    "top-user-agents": _top_user_agents,
    "session-length": _session_length,
    "plays-by-hour": _plays_by_hour,
    "plays-by-weekday": _plays_by_weekday,
    "daily-active-users": _daily_active_users,
    "level-split": _level_split,
    "top-songs": _top_songs,
    "top-artists": _top_artists,
}


def _draw(name: str) -> Callable[[Result], str]:
    """The chart of the query `name`, or a QueryError naming the queries that have one."""
    try:
        return CHARTS[name]
    except KeyError:
        raise QueryError(f"No chart for {name!r}: charts exist for {', '.join(CHARTS)}") from None


def chart_of(result: Result) -> Chart:
    """The natural chart of a query's Result (see `CHARTS` for the queries that have one)."""
    return Chart(_draw(result.query)(result))


def chart(bind: Engine | Connection, name: str, **filters: Any) -> Chart:
    """Run the analytics query `name` (filters as for `run_query`) and return its chart as SVG.

    Every query has one: daily-active-users is a line, the rankings (top-songs, top-artists,
    top-locations, top-user-agents) horizontal bars, the rest bars (conversions per day).
    Raises QueryError for an unknown name, NoWarehouseError when there is no warehouse.
    The Chart is SVG text (a `str`) that a notebook shows as an image.
    """
    draw = _draw(name)  # before the query: an unknown name never reaches the database
    return Chart(draw(run_query(bind, name, **filters)))
