from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from sparkify_dw.copy.convert import ConversionError, ConversionOptions, column_specs
from sparkify_dw.copy.jsonread import JsonFloat

TABLE = sa.Table(
    "t",
    sa.MetaData(),
    sa.Column("name", sa.String(6)),
    sa.Column("n", sa.Integer),
    sa.Column("small", sa.SmallInteger),
    sa.Column("big", sa.BigInteger),
    sa.Column("x", sa.Double),
    sa.Column("at", sa.DateTime),
    sa.Column("flag", sa.Boolean),
)


def _convert(column: str, value: Any, **options: Any) -> Any:
    specs = {s.name: s for s in column_specs(TABLE, ConversionOptions(**options))}
    return specs[column].convert(value)


def _code(column: str, value: Any, **options: Any) -> int:
    with pytest.raises(ConversionError) as info:
        _convert(column, value, **options)
    return info.value.code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (112, "112"),
        (JsonFloat("2.50"), "2.50"),
        (True, "true"),
        ("", ""),
        (None, None),
        ([1, 2], "[1,2]"),
    ],
)
def test_varchar_takes_numbers_as_their_text(value: Any, expected: str | None) -> None:
    assert _convert("name", value) == expected


def test_varchar_length_counts_utf8_bytes() -> None:
    assert _convert("name", "Beyonc") == "Beyonc"  # 6 bytes
    assert _code("name", "Beyoncé") == 1204  # 7 characters, 8 bytes
    assert _convert("name", "Beyoncé", truncate_columns=True) == "Beyonc"
    # cut on a character boundary: "öö ö" is 2+2+1+2 bytes; 6 bytes would split the last ö
    assert _convert("name", "öö ö", truncate_columns=True) == "öö "


def test_blanks_and_empties_as_null_only_when_asked() -> None:
    assert _convert("name", "  ") == "  "
    assert _convert("name", "  ", blanks_as_null=True) is None
    assert _convert("name", "", empty_as_null=True) is None
    assert _convert("name", " ", empty_as_null=True) == " "


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), ("42", 42), (" -3 ", -3), ("", None), ("  ", None), (None, None)],
)
def test_integers(value: Any, expected: int | None) -> None:
    assert _convert("n", value) == expected


@pytest.mark.parametrize("value", ["seven", JsonFloat("1.5"), True, [1], 2**31, "9" * 30])
def test_bad_integers_are_error_1207(value: Any) -> None:
    assert _code("n", value) == 1207


def test_integer_ranges_follow_the_column_type() -> None:
    assert _code("small", 40_000) == 1207
    assert _convert("big", 1541105830796) == 1541105830796


@pytest.mark.parametrize(
    ("value", "expected"),
    [(JsonFloat("246.30812"), 246.30812), (3, 3.0), ("1e3", 1000.0), ("", None)],
)
def test_doubles(value: Any, expected: float | None) -> None:
    assert _convert("x", value) == expected


@pytest.mark.parametrize("value", ["abc", "1_000", "nan", True])
def test_bad_doubles_are_error_1208(value: Any) -> None:
    assert _code("x", value) == 1208


def test_epoch_milliseconds_keep_the_milliseconds() -> None:
    expected = dt.datetime(2018, 11, 1, 20, 57, 10, 796000)
    assert _convert("at", 1541105830796, timeformat="epochmillisecs") == expected
    assert _convert("at", "1541105830796", timeformat="epochmillisecs") == expected
    assert _convert("at", 1541105830, timeformat="epochsecs") == expected.replace(microsecond=0)


def test_timestamps_without_timeformat_are_iso_text() -> None:
    assert _convert("at", "2018-11-01 20:57:10.796") == dt.datetime(2018, 11, 1, 20, 57, 10, 796000)
    assert _code("at", "yesterday") == 1206
    assert _code("at", "soon", timeformat="epochmillisecs") == 1206


def test_booleans() -> None:
    assert _convert("flag", "t") is True
    assert _convert("flag", False) is False
    assert _code("flag", "maybe") == 1207


def test_nul_characters_are_rejected_on_every_engine() -> None:
    assert _code("name", "a\x00b") == 1220


def test_fast_paths_keep_the_slow_paths_answers() -> None:
    assert _code("x", JsonFloat("1e999")) == 1208  # a JSON number too big for FLOAT8
    assert _convert("name", "abcdef") == "abcdef"  # exactly the byte length
    assert _code("name", "abcdefg") == 1204
    assert _convert("name", "", empty_as_null=True) is None  # options still apply
    assert _code("small", 2**15) == 1207
    assert _convert("small", 2**15 - 1) == 2**15 - 1
