from __future__ import annotations

import pytest

from sparkify_dw.copy.jsonpaths import evaluate, parse_jsonpaths, parse_path
from sparkify_dw.errors import SourceError


@pytest.mark.parametrize(
    ("expression", "path"),
    [
        ("$['artist']", ("artist",)),
        ('$["first name"]', ("first name",)),
        ("$.a.b", ("a", "b")),
        ("$['a'][2]", ("a", 2)),
        ("$['it\\'s']", ("it's",)),
    ],
)
def test_paths_redshift_accepts(expression: str, path: tuple[str | int, ...]) -> None:
    assert parse_path(expression) == path


@pytest.mark.parametrize("expression", ["artist", "$", "$[artist]", "$..a", "$['a'"])
def test_paths_redshift_rejects(expression: str) -> None:
    with pytest.raises(ValueError, match="'"):
        parse_path(expression)


def test_evaluate_finds_nested_values_and_none_for_missing_ones() -> None:
    record = {"a": {"b": [10, 20]}, "c": None}
    assert evaluate(record, ("a", "b", 1)) == 20
    assert evaluate(record, ("a", "b", 5)) is None
    assert evaluate(record, ("a", "x")) is None
    assert evaluate(record, ("c", "d")) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"paths": []}', "must be"),
        ('{"jsonpaths": []}', "no expressions"),
        ('{"jsonpaths": ["$.a", 3]}', "expression 2 is not a string"),
        ('{"jsonpaths": ["$.a", "b"]}', "expression 2"),
    ],
)
def test_malformed_jsonpaths_files_name_the_file_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(SourceError, match=message) as info:
        parse_jsonpaths(text, "s3://bucket/paths.json")
    assert "s3://bucket/paths.json" in str(info.value)
