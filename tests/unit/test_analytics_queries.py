"""The analytics queries without a warehouse: filters, user agents, diffs (their Redshift SQL:
tests/sql/test_analytics_sql.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from sparkify_dw.analytics import (
    BROWSERS,
    OPERATING_SYSTEMS,
    QUERIES,
    ExpectationsError,
    QueryError,
    Result,
    classify,
    differences,
    get_query,
    parse_expectations,
)
from sparkify_dw.errors import SparkifyError


@pytest.mark.parametrize(
    ("agent", "browser", "os"),
    [
        (
            '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) '
            'Chrome/35.0.1916.153 Safari/537.36"',
            "Chrome",
            "Windows",
        ),
        (
            '"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 '
            '(KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53"',
            "Safari",
            "iOS",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
            "Firefox",
            "Mac OS X",
        ),
        (
            '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu '
            'Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36"',
            "Chromium",
            "Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0) like Gecko",
            "Internet Explorer",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Mobile Safari/537.36 EdgA/120.0 Edg/120.0",
            "Edge",
            "Android",
        ),
        ("curl/8.0", "Other", "Other"),
        (None, "Other", "Other"),
    ],
)
def test_user_agents_are_classified_in_sql(agent: str | None, browser: str, os: str) -> None:
    engine = sa.create_engine("duckdb:///:memory:")
    value = sa.literal(agent, sa.String())
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(classify(value, BROWSERS), classify(value, OPERATING_SYSTEMS))
        ).one()
    engine.dispose()
    assert tuple(row) == (browser, os)


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


def test_to_pandas_says_how_to_get_pandas_or_builds_a_frame() -> None:
    result = Result("level-split", ("level", "plays"), [("free", 1), ("paid", 2)])
    assert result.records() == [{"level": "free", "plays": 1}, {"level": "paid", "plays": 2}]
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(SparkifyError, match="pip install pandas"):
            result.to_pandas()
    else:  # pragma: no cover - pandas is not a dependency
        frame = result.as_dataframe()
        assert list(frame.columns) == ["level", "plays"]
        assert frame["plays"].sum() == 3
