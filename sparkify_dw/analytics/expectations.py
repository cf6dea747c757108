"""Expected results of the analytics queries: a JSON file lists queries with their parameters and
the rows they must return (`load_expectations`); `verify` runs each and describes any
difference; `snapshot` and `write_expectations` record what the database returns now.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from sparkify_dw.analytics.filters import QueryError
from sparkify_dw.analytics.registry import Result, execute, get_query, require_warehouse
from sparkify_dw.errors import ConfigError
from sparkify_dw.files import write_atomically
from sparkify_dw.warehouse import connect


class ExpectationsError(ConfigError):
    """An expectations file that cannot be read or does not have the expected shape."""


def to_json_value(value: Any) -> Any:
    """A value as it is written in an expectations file (dates and times in ISO format)."""
    if isinstance(value, dt.datetime):
        spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
        return value.isoformat(sep=" ", timespec=spec)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass(frozen=True)
class Expectation:
    """One query, its parameters, and the rows it must return."""

    query: str
    params: dict[str, Any]
    rows: list[list[Any]]
    columns: tuple[str, ...] | None = None
    description: str | None = None

    @property
    def title(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.query} ({params})" if params else self.query


@dataclass(frozen=True)
class Check:
    """The outcome of one expectation: passed, or the differences found."""

    expectation: Expectation
    result: Result
    differences: list[str]

    @property
    def passed(self) -> bool:
        return not self.differences


def load_expectations(path: Path | str) -> list[Expectation]:
    """Read an expectations file, or an ExpectationsError saying what is wrong with it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ExpectationsError(f"Expectations file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ExpectationsError(f"Cannot read expectations file {path}: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExpectationsError(
            f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    return parse_expectations(document, str(path))


def parse_expectations(document: Any, source: str = "expectations") -> list[Expectation]:
    """Check the shape of an expectations document and return its entries."""

    def fail(message: str) -> ExpectationsError:
        return ExpectationsError(f"{source}: {message}")

    if not isinstance(document, dict) or not isinstance(document.get("expectations"), list):
        raise fail('expected an object with an "expectations" list')
    entries: list[Expectation] = []
    for number, entry in enumerate(document["expectations"], start=1):
        where = f"expectation {number}"
        if not isinstance(entry, dict):
            raise fail(f"{where} is not an object")
        name = entry.get("query")
        if not isinstance(name, str):
            raise fail(f'{where} has no "query" name')
        where = f"expectation {number} ({name})"
        unknown_keys = sorted(set(entry) - {"query", "params", "columns", "rows", "description"})
        if unknown_keys:
            raise fail(f"{where} has unknown key(s) {', '.join(unknown_keys)}")
        try:
            query = get_query(name)
        except QueryError as exc:
            raise fail(f"{where}: {exc}") from None
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise fail(f'{where}: "params" must be an object')
        try:
            query.parse_filters(**params)
        except QueryError as exc:
            raise fail(f"{where}: {exc}") from None
        columns = entry.get("columns")
        if columns is not None and (
            not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
        ):
            raise fail(f'{where}: "columns" must be a list of names')
        rows = entry.get("rows")
        width = len(columns) if columns is not None else len(query.columns)
        if not isinstance(rows, list) or not all(
            isinstance(row, list) and len(row) == width for row in rows
        ):
            raise fail(f'{where}: "rows" must be a list of rows, each a list of {width} values')
        description = entry.get("description")
        entries.append(
            Expectation(
                query=name,
                params=dict(params),
                rows=rows,
                columns=tuple(columns) if columns is not None else None,
                description=description if isinstance(description, str) else None,
            )
        )
    return entries


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(expected, int | float) and isinstance(actual, int | float):
            return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
        return False
    return bool(expected == actual) and type(expected) is type(actual)


def _same_row(expected: Sequence[Any], actual: Sequence[Any]) -> bool:
    return len(expected) == len(actual) and all(map(_same, expected, actual))


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _show_row(columns: Sequence[str], row: Sequence[Any]) -> str:
    return ", ".join(f"{c}={_show(v)}" for c, v in zip(columns, row, strict=True))


def differences(
    columns: Sequence[str],
    key: Sequence[str],
    expected: Sequence[Sequence[Any]],
    actual: Sequence[Sequence[Any]],
) -> list[str]:
    """Human-readable differences between expected and actual rows (JSON values), [] if none.

    Rows are matched by the key columns: a key only expected is a missing row, one only found is
    an unexpected row, and a key in both with other values is a changed row, shown value by value
    (expected → actual). The same rows in another order are a difference too.
    """
    if len(expected) == len(actual) and all(map(_same_row, expected, actual)):
        return []
    index = [columns.index(k) for k in key]

    def key_of(row: Sequence[Any]) -> tuple[str, ...]:
        return tuple(_show(row[i]) for i in index)

    expected_by_key = {key_of(row): row for row in expected}
    actual_by_key = {key_of(row): row for row in actual}
    if len(expected_by_key) < len(expected) or len(actual_by_key) < len(actual):
        # Duplicate keys (hand-written file): compare whole rows instead.
        index = list(range(len(columns)))
        expected_by_key = {key_of(row): row for row in expected}
        actual_by_key = {key_of(row): row for row in actual}
    found: list[str] = []
    for row_key, row in expected_by_key.items():
        if row_key not in actual_by_key:
            found.append(f"- missing row: {_show_row(columns, row)}")
    for row_key, row in actual_by_key.items():
        if row_key not in expected_by_key:
            found.append(f"+ unexpected row: {_show_row(columns, row)}")
    for row_key, row in expected_by_key.items():
        other = actual_by_key.get(row_key)
        if other is None or _same_row(row, other):
            continue
        changes = "; ".join(
            f"{column}: expected {_show(want)}, got {_show(got)}"
            for column, want, got in zip(columns, row, other, strict=True)
            if not _same(want, got)
        )
        named = ", ".join(f"{columns[i]}={row_key[n]}" for n, i in enumerate(index))
        found.append(f"~ changed row {named}: {changes}")
    if not found:
        found.append(
            f"same rows in another order: expected {len(expected)} rows with "
            f"{', '.join(key)} in the order {[k for k in expected_by_key]}, "
            f"got {[k for k in actual_by_key]}"
        )
    if len(expected) != len(actual):
        found.insert(0, f"expected {len(expected)} rows, got {len(actual)}")
    return found


def verify(bind: Engine | Connection, expectations: Iterable[Expectation]) -> list[Check]:
    """Run each expectation's query and compare its rows with the expected ones."""
    checks: list[Check] = []
    with connect(bind) as connection:
        require_warehouse(connection)
        for expectation in expectations:
            query = get_query(expectation.query)
            result = execute(connection, query, query.parse_filters(**expectation.params))
            if expectation.columns is not None and expectation.columns != result.columns:
                found = [
                    f"columns: expected {list(expectation.columns)}, got {list(result.columns)}"
                ]
            else:
                actual = [[to_json_value(v) for v in row] for row in result.rows]
                found = differences(result.columns, query.key, expectation.rows, actual)
            checks.append(Check(expectation, result, found))
    return checks


def snapshot(
    bind: Engine | Connection,
    entries: Iterable[tuple[str, Mapping[str, Any]]],
    description: str | None = None,
) -> dict[str, Any]:
    """An expectations document holding what each (query, params) returns now."""
    document: dict[str, Any] = {}
    if description:
        document["description"] = description
    document["expectations"] = []
    with connect(bind) as connection:
        require_warehouse(connection)
        for name, params in entries:
            query = get_query(name)
            result = execute(connection, query, query.parse_filters(**params))
            document["expectations"].append(
                {
                    "query": name,
                    "params": dict(params),
                    "columns": list(result.columns),
                    "rows": [[to_json_value(v) for v in row] for row in result.rows],
                }
            )
    return document


def write_expectations(path: Path | str, document: Mapping[str, Any]) -> None:
    """Write an expectations document, one row per line so that diffs stay readable: through a
    temporary file in the same folder renamed into place, so a failure leaves the old file."""
    entries = []
    for entry in document["expectations"]:
        head = {k: v for k, v in entry.items() if k != "rows"}
        lines = ",\n".join(
            f"        {json.dumps(row, ensure_ascii=False)}" for row in entry["rows"]
        )
        body = json.dumps(head, ensure_ascii=False)[:-1]
        rows = f'"rows": [\n{lines}\n      ]' if entry["rows"] else '"rows": []'
        entries.append(f"    {body}, {rows}}}")
    top = {k: v for k, v in document.items() if k != "expectations"}
    header = "".join(
        f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},\n" for k, v in top.items()
    )
    write_atomically(
        Path(path),
        "{\n" + header + '  "expectations": [\n' + ",\n".join(entries) + "\n  ]\n}\n",
    )
