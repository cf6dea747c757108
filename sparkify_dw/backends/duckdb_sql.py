"""The SQL with which DuckDB parses a JSON line and says whether each value converts exactly as
the record-by-record emulation (copy/emulation.py, copy/convert.py) converts it.

`column_sql` gives, for one staging column, the value SQL and the `ok` SQL over `x`, the JSON
text of the column's value in the line (`json_extract`'s output, cast to VARCHAR; NULL: no such
key); `LINE_OK` says whether the line itself is one JSON object the emulation reads alike. A
rule of conversion changes here and in copy/convert.py together, or the line must not be `ok`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Double, Float, Integer, SmallInteger, String
from sqlalchemy import types as sqltypes

from sparkify_dw.copy.jsonread import MAX_RECORD_BYTES

# A line with this many brackets may nest deeper than the emulation's decoder goes.
_DEEP = 500
_INT_BOUNDS = {SmallInteger: (-(2**15), 2**15 - 1), sqltypes.BigInteger: (-(2**63), 2**63 - 1)}


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_path(key: str) -> str:
    """A top-level key as a DuckDB JSON path: `$."key"`."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def column_sql(column: Any, x: str) -> tuple[str, str] | None:
    """(value, ok) SQL for one column from `x`, the JSON text of its value (NULL: no such key),
    as `json_extract` writes it; None when the fast path has no exact conversion for the type."""
    # Each `ok` is one CASE, so that a branch's test runs only where the one before failed.
    empty = f"{x} IS NULL OR {x} = 'null'"  # no such key, or JSON null: NULL
    if isinstance(column.type, String):
        # A JSON integer or boolean loads as its text, which json_extract writes as the
        # emulation does (a fraction's text as written is not kept by it: not `ok`).
        plain = f"regexp_full_match({x}, '-?[0-9]+|true|false')"
        text = (
            f"CASE WHEN contains({x}, '\\') THEN json_extract_string({x}, '$') ELSE {x}[2:-2] END"
        )
        value = f"CASE WHEN starts_with({x}, '\"') THEN {text} WHEN {plain} THEN {x} END"
        length = column.type.length
        fits = f"strlen({{}}) <= {length}" if length is not None else "true"  # bytes
        quoted = f"strlen({x}) <= {length + 2}" if length is not None else "true"
        # Without a backslash, the value is the text between the quotes (no escape, so no
        # NUL either: JSON writes control characters escaped).
        ok = (
            f"CASE WHEN {empty} THEN true "
            f"WHEN starts_with({x}, '\"') THEN CASE WHEN contains({x}, '\\') "
            f"THEN {fits.format(text)} AND NOT contains({text}, chr(0)) "
            f"ELSE {quoted} END "
            f"WHEN {plain} THEN {fits.format(x)} ELSE false END"
        )
    elif isinstance(column.type, Integer):
        low, high = next(
            (b for t, b in _INT_BOUNDS.items() if isinstance(column.type, t)),
            (-(2**31), 2**31 - 1),
        )
        # A JSON integer, or a string of one ("" is NULL, as Redshift loads it into a number).
        exact = (
            f"CASE WHEN regexp_full_match({x}, '\"?-?[0-9]+\"?') "
            f"THEN TRY_CAST(trim({x}, '\"') AS HUGEINT) END"
        )
        value = f"CAST({exact} AS BIGINT)"
        ok = (
            f"CASE WHEN {empty} OR {x} = '\"\"' THEN true "
            f"ELSE coalesce({exact} BETWEEN {low} AND {high}, false) END"
        )
    elif isinstance(column.type, Double | Float):
        # A JSON number (its syntax checked by the parser), or a string of a plain decimal.
        value = (
            f"CASE WHEN regexp_full_match({x}, '-?[0-9][-+.eE0-9]*') THEN TRY_CAST({x} AS DOUBLE) "
            f"WHEN regexp_full_match({x}, '\"-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?\"') "
            f"THEN TRY_CAST({x}[2:-2] AS DOUBLE) END"
        )
        ok = (
            f"CASE WHEN {empty} OR {x} = '\"\"' THEN true "
            f"ELSE coalesce(isfinite({value}), false) END"
        )
    else:
        return None
    if column.nullable is False:
        ok = f"(NOT ({empty} OR {x} = '\"\"') AND {ok})"
    return value, ok


# What DuckDB's reader accepts and the emulation does not makes a line not `ok`: NaN and
# Infinity in any case, signed or not (`nan`, `-inf`, `INFINITY`: DuckDB's parser takes them
# as values) and a trailing comma. One pattern finds both as values (after `:`, `[` or `,`,
# before `,`, `]` or `}`); where it matches inside a string, the line only takes the slow way.
# Also not `ok`: a record over Redshift's 4 MB limit, deep nesting (Python's decoder stops
# near 1,000 levels; brackets are counted on long lines only), and anything that is not one
# object on its line (the JSON is NULL then).
_NOT_JSON = (
    r",[ \t\r\n]*[\]}]"
    r"|[:\[,][ \t\r\n]*[-+]?([iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])[ \t\r\n]*[,\]}]"
)
LINE_OK = f"""CASE WHEN json IS NULL OR NOT starts_with(json, '{{') THEN false
    WHEN strlen(json) > {MAX_RECORD_BYTES} OR regexp_matches(json, '{_NOT_JSON}') THEN false
    WHEN strlen(json) < {_DEEP} THEN true
    ELSE strlen(json) - strlen(replace(replace(json, '[', ''), '{{', '')) < {_DEEP} END"""
