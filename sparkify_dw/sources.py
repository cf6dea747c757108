"""Where the source files are: list them and open them. No SQL here.

Local paths follow the layout of the S3 bucket. Which files a location names:
- an existing folder: every file below it, recursively (hidden files such as .DS_Store skipped);
- an existing file: that file;
- anything else: Redshift's prefix rule, every file whose path starts with the location
  (`…/log_data/2018/11/2018-11-0` names the first nine days).
Files come in path order, as S3 lists keys. `s3://` locations arrive with S3 support (issue 3).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sparkify_dw.errors import SourceError


@dataclass(frozen=True)
class SourceObject:
    """One file to load: `url` is what reports and load errors show as its name."""

    url: str
    size: int

    def open(self) -> BinaryIO:
        try:
            return open(self.url, "rb")
        except OSError as exc:
            raise SourceError(f"Cannot read {self.url}: {exc.strerror}") from None


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def list_objects(location: str) -> list[SourceObject]:
    """The files a location names, in path order; a clear error when there are none."""
    if is_s3(location):
        raise SourceError(f"{location}: s3:// locations are not supported yet; use a local folder")
    path = Path(location).expanduser()
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(_walk(path))
    else:
        parent = path.parent
        if not parent.is_dir():
            raise SourceError(f"No such file or folder: {location}")
        files = sorted(f for f in _walk(parent) if str(f).startswith(str(path)))
    if not files:
        raise SourceError(f"No files found at {location}")
    return [SourceObject(url=str(f.resolve()), size=f.stat().st_size) for f in files]


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if not name.startswith("."):
                yield Path(root) / name


def read_text(location: str) -> str:
    """A small text file (e.g. the JSONPaths file) in full."""
    objects = list_objects(location)
    if len(objects) != 1:
        raise SourceError(f"{location} names {len(objects)} files; expected exactly one")
    with objects[0].open() as stream:
        try:
            return stream.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{location} is not UTF-8 text: {exc.reason}") from None
