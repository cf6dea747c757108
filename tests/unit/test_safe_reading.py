"""Only regular files are read: anything else at a data location is one clear error naming it.

A FIFO would hang a load waiting for a writer; a socket, a device, a dangling or a looping link
names no data. Each must stop the listing before anything is read, never be skipped silently.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import pytest

from sparkify_dw.errors import SourceError
from sparkify_dw.sources import list_objects, text_object


def _data(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "2018-11-01-events.json").write_text('{"ts": 1}\n', encoding="utf-8")
    return folder


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "gone.json")


def _looping(path: Path) -> None:
    path.symlink_to(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    with contextlib.chdir(path.parent):  # a socket's path is limited to 107 bytes
        server.bind(path.name)
    server.close()  # the socket file stays


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_fifo, "a FIFO (named pipe), not a regular file"),
        (_socket, "a socket, not a regular file"),
        (_dangling, "a dangling or looping link"),
        (_looping, "a dangling or looping link"),
    ],
    ids=["fifo", "socket", "dangling-link", "looping-link"],
)
def test_a_special_file_in_a_folder_is_one_error_naming_it(
    tmp_path: Path, make: object, words: str
) -> None:
    folder = _data(tmp_path)
    odd = folder / "2018-11-02-events.json"
    make(odd)  # type: ignore[operator]
    with pytest.raises(SourceError) as raised:
        list_objects(str(folder))
    assert str(odd) in str(raised.value)
    assert words in str(raised.value)


def test_a_fifo_named_as_the_location_or_as_the_jsonpaths_file_is_refused(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "log_json_path.json"
    os.mkfifo(fifo)
    for call in (lambda: list_objects(str(fifo)), lambda: text_object(str(fifo))):
        with pytest.raises(SourceError, match="FIFO"):
            call()


def test_a_link_to_a_regular_file_is_read_under_its_own_name(tmp_path: Path) -> None:
    folder = _data(tmp_path)
    target = tmp_path / "elsewhere.json"
    target.write_text('{"ts": 2}\n', encoding="utf-8")
    (folder / "2018-11-02-events.json").symlink_to(target)
    objects = list_objects(str(folder))
    assert [Path(o.url).name for o in objects] == [
        "2018-11-01-events.json",
        "2018-11-02-events.json",
    ]
    assert objects[1].size == target.stat().st_size
