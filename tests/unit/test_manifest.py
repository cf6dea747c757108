"""Manifests and read_objects on local files (the same code serves s3://; see test_s3.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sparkify_dw.errors import SourceError
from sparkify_dw.sources import list_objects, read_objects


def _manifest(folder: Path, entries: object) -> str:
    path = folder / "load.manifest"
    path.write_text(json.dumps({"entries": entries}))
    return str(path)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    names = {}
    for name, body in (("a.json", "{}"), ("b.json", "{}\n{}\n")):
        (tmp_path / name).write_text(body)
        names[name] = str((tmp_path / name).resolve())
    return names


def test_entries_come_in_manifest_order_and_a_repeat_loads_twice(
    tmp_path: Path, files: dict[str, str]
) -> None:
    location = _manifest(
        tmp_path,
        [
            {"url": files["b.json"], "mandatory": True, "meta": {"content_length": 6}},
            {"url": files["a.json"]},
            {"url": files["b.json"], "mandatory": False},
        ],
    )
    found = [(o.url, o.size) for o in list_objects(location, manifest=True)]
    assert found == [(files["b.json"], 6), (files["a.json"], 2), (files["b.json"], 6)]


def test_missing_entries(tmp_path: Path, files: dict[str, str]) -> None:
    gone = str(tmp_path / "gone.json")
    skipped = _manifest(tmp_path, [{"url": gone}, {"url": files["a.json"], "mandatory": True}])
    assert [o.url for o in list_objects(skipped, manifest=True)] == [files["a.json"]]

    failing = _manifest(tmp_path, [{"url": files["a.json"]}, {"url": gone, "mandatory": True}])
    with pytest.raises(SourceError, match=f"mandatory file {gone} does not exist"):
        list_objects(failing, manifest=True)

    only_missing = _manifest(tmp_path, [{"url": gone, "mandatory": False}])
    with pytest.raises(SourceError, match=r"every file in manifest .* is missing"):
        list_objects(only_missing, manifest=True)

    folder = _manifest(tmp_path, [{"url": str(tmp_path)}])
    with pytest.raises(SourceError, match="is a folder, not a file"):
        list_objects(folder, manifest=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is not valid JSON"),
        ("{'entries': []}", "is not valid JSON"),
        ('{"entries": {"url": "a"}}', 'must be a JSON object with an "entries" list'),
        ('{"entries": []}', "lists no files"),
        ('{"entries": [{"url": ""}]}', 'entry 1: "url" must be a non-empty string'),
        ('{"entries": [{"url": "a", "mandatory": 1}]}', '"mandatory" must be true or false'),
        ('{"entries": [{"url": "a", "meta": []}]}', '"meta" must be an object'),
        ('{"entries": [{"url": "a", "meta": {"content_length": -1}}]}', "content_length"),
    ],
)
def test_a_malformed_manifest_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.manifest"
    path.write_text(text)
    with pytest.raises(SourceError, match=message) as err:
        list_objects(str(path), manifest=True)
    assert str(err.value).startswith(f"Manifest {path}")
    assert "\n" not in str(err.value)


def test_read_objects_on_local_files_keeps_order(tmp_path: Path) -> None:
    for i in range(20):
        (tmp_path / f"{i:02d}.json").write_text(str(i) * (i + 1))
    objects = list_objects(str(tmp_path))[::-1]
    for budget in (0, 5, 1 << 20):
        got = [s.read().decode() for _, s in read_objects(objects, max_prefetch_bytes=budget)]
        assert got == [str(i) * (i + 1) for i in reversed(range(20))]
    with pytest.raises(ValueError, match="max_workers"):
        next(read_objects(objects, max_workers=0))
