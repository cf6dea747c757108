"""Read a stream of JSON records the way Redshift's COPY does.

Records are JSON values one after another: one per line, or pretty-printed over several lines.
Each is numbered by the line where it ends (STL_LOAD_ERRORS' line_number). A record that does
not parse is reported once, and reading resumes where the next record can start, so one broken
line never hides the good ones after it: a line that is a whole JSON object on its own starts a
new record even when the one before never closed. Only JSON counts: NaN and Infinity, a number
Python will not convert (thousands of digits) and nesting too deep to decode are each one bad
record, never an exception. A key given twice in one object: the first value counts.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# Redshift's limit on one JSON record; also what bounds the memory one record can take.
MAX_RECORD_BYTES = 4 * 1024 * 1024


class JsonFloat(str):
    """A JSON number with a fraction or exponent, kept as its source text.

    A number loaded into a VARCHAR column becomes its text as written (Redshift does so), and
    into a DOUBLE column converts exactly once.
    """

    __slots__ = ()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _first_wins(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose key appears twice keeps the first value, as DuckDB's reader does (the
    fast path) and streaming parsers do; Redshift does not document which one it loads."""
    value = dict(pairs)
    if len(value) != len(pairs):
        value = {}
        for key, item in pairs:
            value.setdefault(key, item)
    return value


_DECODER = json.JSONDecoder(
    parse_float=JsonFloat, parse_constant=_no_constant, object_pairs_hook=_first_wins
)


@dataclass(frozen=True, slots=True)
class Record:
    line_number: int  # the line where the record ends, 1-based
    text: str  # the record's source text
    value: Any


@dataclass(frozen=True, slots=True)
class BadRecord:
    line_number: int
    text: str
    reason: str


def _skip_ws(buffer: str, pos: int) -> int:
    while pos < len(buffer) and buffer[pos] in " \t\r\n":
        pos += 1
    return pos


def iter_records(
    lines: Iterable[str], *, max_record_bytes: int = MAX_RECORD_BYTES
) -> Iterator[Record | BadRecord]:
    """Yield each record of a text stream, or a BadRecord for each one that does not parse."""
    pending: list[str] = []  # lines of a record that spans several lines
    first = 0  # line number of pending[0]
    size = 0
    for number, line in enumerate(lines, start=1):
        if not pending:
            if not line.strip():
                continue
            first = number
        elif _whole_object(line):
            # The record before never closed; this line is a record of its own.
            text = "".join(pending)
            yield BadRecord(number - 1, text[:1024], "invalid JSON: the record is not complete")
            pending, size, first = [], 0, number
        pending.append(line)
        size += len(line)
        buffer = "".join(pending) if len(pending) > 1 else line
        if size > max_record_bytes:
            yield BadRecord(number, buffer[:1024], f"record larger than {max_record_bytes} bytes")
            pending, size = [], 0
            continue
        leftover = yield from _decode_buffer(buffer, first)
        if leftover is None:
            pending, size = [], 0
        else:
            offset, rest = leftover
            first += buffer.count("\n", 0, offset)
            pending, size = [rest], len(rest)
    if pending:
        text = "".join(pending)
        if text.strip():
            last = first + text.rstrip().count("\n")
            yield BadRecord(last, text[:1024], "unexpected end of file inside a JSON record")


def _whole_object(line: str) -> bool:
    """Whether a line is, by itself, one complete JSON object (a record's start, not a part)."""
    text = line.strip()
    if not text.startswith("{") or not text.endswith("}"):
        return False
    try:
        _, end = _DECODER.raw_decode(text)
    except (ValueError, RecursionError):
        return False
    return end == len(text)


def _decode_buffer(
    buffer: str, first: int
) -> Generator[Record | BadRecord, None, tuple[int, str] | None]:
    """Decode all records in `buffer`; return (offset, rest) when the last one is incomplete."""
    pos = _skip_ws(buffer, 0)
    while pos < len(buffer):
        try:
            value, end = _DECODER.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(buffer.rstrip()):
                return pos, buffer[pos:]  # the record goes on in the next lines
            line_number = first + buffer.count("\n", 0, exc.pos)
            yield BadRecord(line_number, _line_at(buffer, pos), f"invalid JSON: {exc.msg}")
            pos = _skip_ws(buffer, _resume_at(buffer, pos, exc.pos))
            continue
        except (ValueError, RecursionError) as exc:  # NaN, too many digits, too deep
            reason = (
                "nesting too deep"
                if isinstance(exc, RecursionError)
                else "a number with too many digits"
                if "digits" in str(exc)
                else str(exc)
            )
            line_number = first + buffer.count("\n", 0, pos)
            yield BadRecord(line_number, _line_at(buffer, pos), f"invalid JSON: {reason[:200]}")
            pos = _skip_ws(buffer, _next_line(buffer, pos))
            continue
        line_end = buffer.find("\n", end)
        rest = buffer[end : line_end if line_end >= 0 else len(buffer)]
        if not isinstance(value, dict | list) and rest.strip() and rest.lstrip()[0] not in "{[":
            # `123abc`: one line that is not JSON, not a number and then an error.
            line_number = first + buffer.count("\n", 0, pos)
            yield BadRecord(line_number, _line_at(buffer, pos), "invalid JSON: text after a value")
            pos = _skip_ws(buffer, _next_line(buffer, pos))
            continue
        yield Record(first + buffer.count("\n", 0, end), buffer[pos:end], value)
        pos = _skip_ws(buffer, end)
    return None


def _next_line(buffer: str, pos: int) -> int:
    end = buffer.find("\n", pos)
    return len(buffer) if end < 0 else end + 1


def _line_at(buffer: str, pos: int) -> str:
    end = buffer.find("\n", pos)
    return buffer[pos : end if end >= 0 else len(buffer)][:1024]


def _resume_at(buffer: str, start: int, error: int) -> int:
    """Where the next record may begin after a broken one that starts at `start`."""
    line_start = buffer.rfind("\n", 0, error) + 1
    if line_start > start and not buffer[line_start:error].strip():
        return line_start  # the error is at the start of a later line: a new record begins there
    next_line = buffer.find("\n", max(error, start))
    return len(buffer) if next_line < 0 else next_line + 1
