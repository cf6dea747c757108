"""Redshift's COPY data conversions, for the engines that have no COPY from JSON.

Each staging column gets a converter from a JSON value to the value Redshift would store, or a
ConversionError carrying the STL_LOAD_ERRORS code and reason Redshift would report
(spec/copy-semantics.md). Numbers into VARCHAR become their text; an empty or blank string into a
number is NULL; VARCHAR(n) counts UTF-8 bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, String, Table
from sqlalchemy import types as sqltypes

from sparkify_dw.copy.jsonread import JsonFloat

# STL_LOAD_ERRORS codes (Amazon Redshift Database Developer Guide, "Load error reference").
ERR_LENGTH = 1204
ERR_TIMESTAMP = 1206
ERR_DIGIT = 1207
ERR_FLOAT = 1208
ERR_NOT_NULL = 1213
ERR_JSON = 1216
ERR_UTF8 = 1220

EPOCH = dt.datetime(1970, 1, 1)
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT_RANGES = {
    sqltypes.SmallInteger: (-(2**15), 2**15 - 1, "INT2"),
    sqltypes.BigInteger: (-(2**63), 2**63 - 1, "INT8"),
}


class ConversionError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class ConversionOptions:
    truncate_columns: bool = False  # TRUNCATECOLUMNS
    blanks_as_null: bool = False  # BLANKSASNULL
    empty_as_null: bool = False  # EMPTYASNULL
    timeformat: str | None = None  # 'epochmillisecs', 'epochsecs', 'auto' or None


Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type_name: str  # as STL_LOAD_ERRORS shows it, e.g. varchar(512)
    nullable: bool
    convert: Converter


def column_specs(table: Table, options: ConversionOptions) -> list[ColumnSpec]:
    """A converter for each column of `table`, in column order."""
    return [
        ColumnSpec(c.name, _type_name(c), c.nullable is not False, _converter(c, options))
        for c in table.columns
    ]


def _type_name(column: Column[Any]) -> str:
    return str(column.type).lower()


def _converter(column: Column[Any], options: ConversionOptions) -> Converter:
    kind = column.type
    if isinstance(kind, String):
        return _varchar(kind.length, options)
    if isinstance(kind, Boolean):
        return _boolean
    if isinstance(kind, Integer):
        low, high, name = next(
            (r for t, r in _INT_RANGES.items() if isinstance(kind, t)),
            (-(2**31), 2**31 - 1, "INT4"),
        )
        return _integer(low, high, name)
    if isinstance(kind, Float):
        return _float
    if isinstance(kind, DateTime):
        return _timestamp(options.timeformat)
    raise NotImplementedError(f"No COPY conversion for {column.table.name}.{column.name}")


def raw_text(value: Any) -> str:
    """A JSON value as text, the way it is shown in raw_field_value."""
    if isinstance(value, str):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _varchar(length: int | None, options: ConversionOptions) -> Converter:
    plain = not (options.empty_as_null or options.blanks_as_null)
    limit = length if length is not None else float("inf")

    def convert(value: Any) -> str | None:
        # Fast path for the common case: plain ASCII text that fits (bytes == characters).
        if (
            plain
            and type(value) is str
            and value.isascii()
            and len(value) <= limit
            and "\x00" not in value
        ):
            return value
        if value is None:
            return None
        text = raw_text(value) if not isinstance(value, bool) else ("true" if value else "false")
        if options.empty_as_null and text == "":
            return None
        if options.blanks_as_null and text and text.isspace():
            return None
        if "\x00" in text:
            raise ConversionError(ERR_UTF8, "String contains a NUL character")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:
            raise ConversionError(ERR_UTF8, "Invalid UTF-8 byte sequence") from None
        if length is not None and len(data) > length:
            if not options.truncate_columns:
                raise ConversionError(
                    ERR_LENGTH, f"String length exceeds DDL length ({len(data)} > {length} bytes)"
                )
            text = data[:length].decode("utf-8", errors="ignore")  # cut on a character boundary
        return text

    return convert


def _integer(low: int, high: int, name: str) -> Converter:
    def convert(value: Any) -> int | None:
        if type(value) is int and low <= value <= high:  # fast path: a JSON integer in range
            return value
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ConversionError(ERR_DIGIT, f"Invalid digit, Value '{raw_text(value)}'")
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None  # an empty or blank field into a number is NULL
            if not _INT.fullmatch(text):
                raise ConversionError(ERR_DIGIT, f"Invalid digit, Value '{text}', Type: {name}")
            value = int(text)
        number: int = value
        if not low <= number <= high:
            raise ConversionError(ERR_DIGIT, f"Overflow, Value '{number}', Type: {name}")
        return number

    return convert


def _float(value: Any) -> float | None:
    if type(value) is JsonFloat:  # fast path: the decoder already checked the number's syntax
        result = float(value)
        if result not in (float("inf"), float("-inf")):
            return result
        raise ConversionError(ERR_FLOAT, f"Overflow, Value '{value}', Type: FLOAT8")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConversionError(ERR_FLOAT, f"Invalid float number, Value '{raw_text(value)}'")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _FLOAT.fullmatch(text):
            raise ConversionError(ERR_FLOAT, f"Invalid float number, Value '{text}'")
        value = text
    try:
        result = float(value)
    except OverflowError:  # an integer of hundreds of digits: no double holds it
        result = float("inf")
    if result in (float("inf"), float("-inf")):
        raise ConversionError(ERR_FLOAT, f"Overflow, Value '{value}', Type: FLOAT8")
    return result


def _boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = raw_text(value).strip().lower()
    if text in ("t", "true", "1", "y", "yes"):
        return True
    if text in ("f", "false", "0", "n", "no"):
        return False
    if not text:
        return None
    raise ConversionError(ERR_DIGIT, f"Invalid boolean, Value '{text}'")


def _timestamp(timeformat: str | None) -> Converter:
    scale = {"epochmillisecs": 1_000, "epochsecs": 1}.get((timeformat or "auto").lower())

    def convert(value: Any) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str) and not value.strip():
            return None
        try:
            if scale is not None and isinstance(value, int) and not isinstance(value, bool):
                return EPOCH + dt.timedelta(microseconds=value * (1_000_000 // scale))
            if scale is not None:
                number = _float(value)
                assert number is not None
                return EPOCH + dt.timedelta(seconds=number / scale)
            if isinstance(value, str):
                parsed = dt.datetime.fromisoformat(value.strip())
                if parsed.tzinfo is not None:
                    parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
                return parsed
        except (ValueError, OverflowError, ConversionError):
            pass
        raise ConversionError(ERR_TIMESTAMP, f"Invalid timestamp format, Value '{raw_text(value)}'")

    return convert
