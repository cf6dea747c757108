"""The parts of a play's start_time that the `time` table holds, and the weekdays' names.

Defined once, in a module that imports nothing of the package, for the merge that computes the
parts (transforms), the check that recomputes them (checks) and the queries and charts that show
them (analytics, charts), so that none of them can drift from the others.
"""

from __future__ import annotations

from collections.abc import Mapping

# time's column -> the EXTRACT field that computes it from start_time (in UTC, the timestamps'
# zone), in the table's column order.
TIME_PARTS: Mapping[str, str] = {
    "hour": "hour",
    "day": "day",  # of the month
    "week": "week",  # ISO-8601 week number
    "month": "month",
    "year": "year",
    "weekday": "dow",  # 0 = Sunday … 6 = Saturday
}

# The name of each `weekday` number: EXTRACT(dow …) counts from 0 = Sunday.
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
