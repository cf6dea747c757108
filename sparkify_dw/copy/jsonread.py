"""Read a stream of JSON records the way Redshift's COPY does.

Records are JSON values one after another: one per line, or pretty-printed over several lines.
A record that does not parse is reported once, with the number of its first line, and reading
resumes where the next record can start, so one broken line never hides the good ones after it.
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


_DECODER = json.JSONDecoder(parse_float=JsonFloat)


@dataclass(frozen=True, slots=True)
class Record:
    line_number: int  # first line of the record, 1-based
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
        pending.append(line)
        size += len(line)
        buffer = "".join(pending) if len(pending) > 1 else line
        if size > max_record_bytes:
            yield BadRecord(first, buffer[:1024], f"record larger than {max_record_bytes} bytes")
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
            yield BadRecord(first, text[:1024], "unexpected end of file inside a JSON record")


def _decode_buffer(
    buffer: str, first: int
) -> Generator[Record | BadRecord, None, tuple[int, str] | None]:
    """Decode all records in `buffer`; return (offset, rest) when the last one is incomplete."""
    pos = _skip_ws(buffer, 0)
    while pos < len(buffer):
        line_number = first + buffer.count("\n", 0, pos)
        try:
            value, end = _DECODER.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(buffer.rstrip()):
                return pos, buffer[pos:]  # the record goes on in the next lines
            yield BadRecord(line_number, _line_at(buffer, pos), f"invalid JSON: {exc.msg}")
            pos = _skip_ws(buffer, _resume_at(buffer, pos, exc.pos))
            continue
        yield Record(line_number, buffer[pos:end], value)
        pos = _skip_ws(buffer, end)
    return None


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
