"""The filters of the analytics queries: what each means, and their validation.

Filters select plays: `since`/`until` bound `songplays.start_time` (a date means the whole day,
both ends inclusive; a datetime is an exact instant, also inclusive), `level` keeps the plays made
at that level (`free` or `paid`). `limit` caps the rows of the ranked queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sparkify_dw.errors import ConfigError

LEVELS = ("free", "paid")
FILTERS = ("since", "until", "level", "limit")
DEFAULT_TOP = 10


class QueryError(ConfigError):
    """An unknown query name, or a filter it does not take or cannot use."""


@dataclass(frozen=True)
class Filters:
    """The parameters of a query: validated, with dates as datetimes bounds."""

    since: dt.date | None = None
    until: dt.date | None = None
    level: str | None = None
    limit: int | None = None

    def given(self) -> dict[str, Any]:
        """The filters that were set, as JSON-friendly values (dates in ISO format)."""
        values: dict[str, Any] = {}
        for name in FILTERS:
            value = getattr(self, name)
            if value is not None:
                values[name] = value.isoformat() if isinstance(value, dt.date) else value
        return values


def parse_filters(
    query: str, takes: frozenset[str], default_limit: int | None, raw: Mapping[str, Any]
) -> Filters:
    """Validate the filters `raw` for the query `query`, which takes the filters `takes`.

    Strings are parsed (ISO dates, numbers); `limit` defaults to `default_limit` where it is taken.
    """
    unknown = sorted(set(raw) - set(FILTERS))
    if unknown:
        raise QueryError(f"{query}: unknown filter {', '.join(unknown)}")
    refused = sorted(k for k, v in raw.items() if v is not None and k not in takes)
    if refused:
        takes_text = ", ".join(f for f in FILTERS if f in takes) or "no filters"
        raise QueryError(f"{query} does not take {', '.join(refused)} (it takes {takes_text})")
    since = _parse_date(raw.get("since"), "since")
    until = _parse_date(raw.get("until"), "until")
    if since is not None and until is not None and _bound(since) > _bound(until):
        raise QueryError(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
    level = raw.get("level")
    if level is not None and level not in LEVELS:
        raise QueryError(f"level must be free or paid, not {level!r}")
    limit = raw.get("limit")
    if limit is not None:
        limit = _parse_limit(limit)
    elif "limit" in takes:
        limit = default_limit
    return Filters(since=since, until=until, level=level, limit=limit)


def _bound(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _parse_date(value: Any, what: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)  # start_time is naive UTC
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            return _parse_date(dt.datetime.fromisoformat(text), what)
        except ValueError:
            pass
    raise QueryError(
        f"{what} must be a date (2018-11-15) or a UTC date and time (2018-11-15T08:00), "
        f"not {value!r}"
    )


def _parse_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise QueryError(f"limit must be a whole number of 1 or more, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise QueryError(f"limit must be a whole number of 1 or more, not {value!r}") from None
    if number < 1:
        raise QueryError(f"limit must be a whole number of 1 or more, not {value!r}")
    return number
