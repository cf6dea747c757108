"""The analytics queries without a warehouse: filters, diffs, expectations (their Redshift SQL:
tests/sql/test_analytics_sql.py; user agents classified in SQL: tests/integration/)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import pytest

from sparkify_dw.analytics import (
    QUERIES,
    ExpectationsError,
    QueryError,
    Result,
    differences,
    get_query,
    parse_expectations,
)
from sparkify_dw.errors import SparkifyError


@pytest.mark.parametrize(
    ("name", "filters", "message"),
    [
        ("top-songs", {"level": "gold"}, "level must be free or paid"),
        ("top-songs", {"limit": 0}, "limit must be a whole number"),
        ("top-songs", {"limit": "ten"}, "limit must be a whole number"),
        ("top-songs", {"since": "yesterday"}, "since must be a date"),
        ("top-songs", {"since": "2018-11-20", "until": "2018-11-10"}, "is after until"),
        ("level-split", {"limit": 3}, "level-split does not take limit"),
        ("conversions", {"level": "paid"}, "conversions does not take level"),
        ("top-songs", {"artist": "x"}, "unknown filter artist"),
    ],
)
def test_bad_filters_are_one_clear_error(name: str, filters: dict[str, Any], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        QUERIES[name].parse_filters(**filters)


def test_filters_take_dates_datetimes_and_text() -> None:
    query = QUERIES["top-songs"]
    assert query.parse_filters().limit == 10  # a ranking's default
    parsed = query.parse_filters(since="2018-11-01", until="2018-11-02T08:30:00+01:00", limit="3")
    assert parsed.since == dt.date(2018, 11, 1)
    assert parsed.until == dt.datetime(2018, 11, 2, 7, 30)  # UTC, like start_time
    assert parsed.limit == 3
    assert QUERIES["plays-by-hour"].parse_filters().limit is None
    with pytest.raises(QueryError, match="Unknown query 'nope': use one of top-songs"):
        get_query("nope")


def test_differences_name_missing_unexpected_and_changed_rows() -> None:
    columns, key = ("song_id", "title", "plays"), ("song_id",)
    expected = [["A", "One", 3], ["B", "Two", 2], ["C", "Three", 1]]
    assert differences(columns, key, expected, [list(r) for r in expected]) == []
    found = differences(
        columns, key, expected, [["A", "One", 4], ["B", "Two", 2], ["D", "Four", 1]]
    )
    assert found == [
        '- missing row: song_id="C", title="Three", plays=1',
        '+ unexpected row: song_id="D", title="Four", plays=1',
        '~ changed row song_id="A": plays: expected 3, got 4',
    ]
    reordered = differences(columns, key, expected, [expected[1], expected[0], expected[2]])
    assert len(reordered) == 1
    assert reordered[0].startswith("same rows in another order")
    assert differences(columns, key, [["A", "One", 1]], [["A", "One", 1.0]]) == []
    assert differences(columns, key, [["A", "One", "1"]], [["A", "One", 1]]) != []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], 'an object with an "expectations" list'),
        ({"expectations": [3]}, "expectation 1 is not an object"),
        ({"expectations": [{"rows": []}]}, 'expectation 1 has no "query"'),
        ({"expectations": [{"query": "nope", "rows": []}]}, "Unknown query 'nope'"),
        ({"expectations": [{"query": "level-split", "rows": [[1]]}]}, "each a list of 3 values"),
        ({"expectations": [{"query": "level-split", "params": [], "rows": []}]}, '"params"'),
        ({"expectations": [{"query": "level-split", "rows": [], "extra": 1}]}, "unknown key"),
    ],
)
def test_a_malformed_expectations_document_is_one_clear_error(document: Any, message: str) -> None:
    with pytest.raises(ExpectationsError, match=message):
        parse_expectations(document, "x.json")


def test_to_pandas_says_how_to_get_pandas_or_builds_a_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = Result("level-split", ("level", "plays"), [("free", 1), ("paid", 2)])
    assert result.records() == [{"level": "free", "plays": 1}, {"level": "paid", "plays": 2}]
    pytest.importorskip("pandas", reason="pandas is in the test extra (and the notebook one)")
    frame = result.as_dataframe()
    assert list(frame.columns) == ["level", "plays"]
    assert frame["plays"].sum() == 3
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "pandas", None)  # `import pandas` raises ImportError
        with pytest.raises(SparkifyError, match=r"pip install 'sparkify-dw\[notebook\]'"):
            result.to_pandas()
