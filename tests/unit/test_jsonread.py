from __future__ import annotations

import io

import pytest

from sparkify_dw.copy.jsonread import BadRecord, Record, iter_records


def _read(text: str, **kw: int) -> list[Record | BadRecord]:
    return list(iter_records(io.StringIO(text), **kw))


def test_one_record_per_line_with_line_numbers() -> None:
    items = _read('{"a": 1}\n\n{"a": 2}\n')
    assert [(i.line_number, i.value) for i in items if isinstance(i, Record)] == [
        (1, {"a": 1}),
        (3, {"a": 2}),
    ]


def test_a_pretty_printed_record_spans_lines_and_is_numbered_by_its_last_line() -> None:
    # STL_LOAD_ERRORS' line_number of a multi-line JSON record is the line where it ends.
    items = _read('{"a": 1}\n{\n    "b": 2,\n    "c": [1,\n 2]\n}\n{"d": 4}')
    assert [(i.line_number, i.value) for i in items] == [  # type: ignore[union-attr]
        (1, {"a": 1}),
        (6, {"b": 2, "c": [1, 2]}),
        (7, {"d": 4}),
    ]


def test_several_records_on_one_line() -> None:
    items = _read('{"a": 1}{"a": 2} {"a": 3}\n')
    assert [i.value for i in items] == [{"a": 1}, {"a": 2}, {"a": 3}]  # type: ignore[union-attr]


def test_a_broken_line_is_one_error_and_reading_resumes_at_the_next_line() -> None:
    items = _read('{"a": 1}\nnot json\n{"a": "x\n{"a": 3}\n')
    assert [type(i).__name__ for i in items] == ["Record", "BadRecord", "BadRecord", "Record"]
    assert [i.line_number for i in items] == [1, 2, 3, 4]
    assert items[-1].value == {"a": 3}  # type: ignore[union-attr]


def test_a_truncated_record_followed_by_good_lines() -> None:
    items = _read('{"a": 1, "b"\n{"a": 2}\n{"a": 3}\n')
    assert isinstance(items[0], BadRecord)
    assert items[0].line_number == 1
    assert [i.value for i in items[1:]] == [{"a": 2}, {"a": 3}]  # type: ignore[union-attr]


def test_a_record_cut_off_by_the_end_of_the_file_is_one_error() -> None:
    items = _read('{"a": 1}\n{\n  "b": 2,\n  "c": 3\n')
    assert isinstance(items[1], BadRecord)
    assert (items[1].line_number, len(items)) == (4, 2)  # where the file, and so it, ends
    assert "end of file" in items[1].reason


def test_numbers_with_a_fraction_keep_their_source_text() -> None:
    (item,) = _read('{"registration": 1540919166796.0, "n": 112}')
    assert isinstance(item, Record)
    assert item.value["registration"] == "1540919166796.0"
    assert item.value["n"] == 112


def test_a_record_over_the_size_limit_is_rejected_without_reading_on_forever() -> None:
    items = _read("[\n" + "1,\n" * 100 + "1]\n" + '{"ok": 1}\n', max_record_bytes=64)
    assert isinstance(items[0], BadRecord)
    assert "larger than" in items[0].reason
    assert items[-1].value == {"ok": 1}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"a": NaN}', "NaN is not a JSON value"),
        ('{"a": Infinity}', "Infinity is not a JSON value"),
        ('{"a": -Infinity}', "-Infinity is not a JSON value"),
        ('{"a": ' + "9" * 5000 + "}", "a number with too many digits"),
        ("[" * 10_000 + "]" * 10_000, "nesting too deep"),
        ("123abc", "text after a value"),
    ],
    ids=["nan", "infinity", "minus-infinity", "5000-digits", "deep", "123abc"],
)
def test_what_is_not_json_is_one_bad_record_and_the_next_line_still_loads(
    line: str, reason: str
) -> None:
    items = _read(f"{line}\n" + '{"next": 1}\n')
    assert [type(i).__name__ for i in items] == ["BadRecord", "Record"]
    assert reason in items[0].reason  # type: ignore[union-attr]
    assert (items[0].line_number, items[1].line_number) == (1, 2)


def test_a_record_that_never_closes_does_not_swallow_the_good_line_after_it() -> None:
    items = _read('{"a":\n{"b": 1}\n{"c": 2}\n')
    assert [type(i).__name__ for i in items] == ["BadRecord", "Record", "Record"]
    assert [i.line_number for i in items] == [1, 2, 3]
    assert [i.value for i in items[1:]] == [{"b": 1}, {"c": 2}]  # type: ignore[union-attr]
