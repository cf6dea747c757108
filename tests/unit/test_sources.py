from __future__ import annotations

from pathlib import Path

import pytest

from sparkify_dw.errors import SourceError
from sparkify_dw.sources import list_objects, read_text


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    for name in [
        "log_data/2018/11/a.json",
        "log_data/2018/11/b.json",
        "log_data_old/x.json",
        "log_data/.DS_Store",
        "song_data/A/A/A/TR1.json",
    ]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return tmp_path


def _names(location: Path | str, root: Path) -> list[str]:
    return [str(Path(o.url).relative_to(root.resolve())) for o in list_objects(str(location))]


def test_a_folder_names_every_file_below_it_in_key_order(bucket: Path) -> None:
    assert _names(bucket / "log_data", bucket) == [
        "log_data/2018/11/a.json",
        "log_data/2018/11/b.json",
    ]


def test_a_partial_name_is_a_prefix_as_on_s3(bucket: Path) -> None:
    assert _names(f"{bucket}/log_data/2018/11/a", bucket) == ["log_data/2018/11/a.json"]
    assert _names(f"{bucket}/log_d", bucket) == [
        "log_data/2018/11/a.json",
        "log_data/2018/11/b.json",
        "log_data_old/x.json",
    ]


def test_a_file_names_itself(bucket: Path) -> None:
    assert _names(bucket / "song_data/A/A/A/TR1.json", bucket) == ["song_data/A/A/A/TR1.json"]


def test_nothing_there_is_a_clear_error(bucket: Path) -> None:
    with pytest.raises(SourceError, match="No files found"):
        list_objects(str(bucket / "log_data/2019"))
    with pytest.raises(SourceError, match="No such file or folder"):
        list_objects(str(bucket / "missing/deeper/path"))
    (bucket / "empty").mkdir()
    with pytest.raises(SourceError, match="No files found"):
        list_objects(str(bucket / "empty"))


def test_read_text_reads_exactly_the_file_named_never_a_prefix(bucket: Path) -> None:
    assert read_text(str(bucket / "song_data/A/A/A/TR1.json")) == "{}"
    (bucket / "paths.json").write_text('{"jsonpaths": []}')
    (bucket / "paths.json.bak").write_text("old")  # would match as a prefix
    assert read_text(str(bucket / "paths.json")) == '{"jsonpaths": []}'
    with pytest.raises(SourceError, match="is a folder, not a file"):
        read_text(str(bucket / "log_data"))
    with pytest.raises(SourceError, match="No such file"):
        read_text(str(bucket / "paths"))
