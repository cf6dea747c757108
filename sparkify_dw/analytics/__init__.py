"""Analytics: the questions Sparkify asks of the star schema, as named SQLAlchemy Core queries.

`QUERIES` is the registry, `run_query(bind, name, since=…, until=…, level=…, limit=…)` runs one
and returns a `Result` (column names and rows); `verify` checks their answers against an
expectations file. The package's parts, each importing only those before it:

- `filters`: the filters (since, until, level, limit), their meaning and validation;
- `queries`: one SELECT builder per question, and the user-agent rules (`BROWSERS`, …);
- `registry`: `QUERIES`, `get_query`, `run_query` and its `Result`;
- `expectations`: `load_expectations`, `verify`, `snapshot`, `write_expectations`.

Everything is importable from here, as it was when this was one module.
"""

from __future__ import annotations

from sparkify_dw.analytics.expectations import (
    Check,
    Expectation,
    ExpectationsError,
    differences,
    load_expectations,
    parse_expectations,
    snapshot,
    to_json_value,
    verify,
    write_expectations,
)
from sparkify_dw.analytics.filters import DEFAULT_TOP, FILTERS, LEVELS, Filters, QueryError
from sparkify_dw.analytics.queries import (
    BROWSERS,
    OPERATING_SYSTEMS,
    OTHER,
    SESSION_BUCKETS,
    classify,
)
from sparkify_dw.analytics.registry import (
    QUERIES,
    Query,
    Result,
    get_query,
    require_warehouse,
    run_query,
)
from sparkify_dw.sample import EXPECTATIONS_DIR, SAMPLE_EXPECTATIONS
from sparkify_dw.timeparts import WEEKDAYS
from sparkify_dw.warehouse import NoWarehouseError  # raised here too

__all__ = [
    "BROWSERS",
    "DEFAULT_TOP",
    "EXPECTATIONS_DIR",
    "FILTERS",
    "LEVELS",
    "OPERATING_SYSTEMS",
    "OTHER",
    "QUERIES",
    "SAMPLE_EXPECTATIONS",
    "SESSION_BUCKETS",
    "WEEKDAYS",
    "Check",
    "Expectation",
    "ExpectationsError",
    "Filters",
    "NoWarehouseError",
    "Query",
    "QueryError",
    "Result",
    "classify",
    "differences",
    "get_query",
    "load_expectations",
    "parse_expectations",
    "require_warehouse",
    "run_query",
    "snapshot",
    "to_json_value",
    "verify",
    "write_expectations",
]
