"""COPY's GZIP and BZIP2: a file's bytes decompressed as they are read, and the one error a file
that cannot be read (or decompressed) gives, whichever path reads it."""

from __future__ import annotations

import bz2
import gzip
import zlib
from typing import BinaryIO

from sparkify_dw.copy.options import Compression
from sparkify_dw.errors import SourceError

# What reading a (compressed) file may raise: zlib.error is corrupt deflate data in a gzip,
# EOFError a truncated archive.
READ_ERRORS = (OSError, EOFError, zlib.error)


def decompressed(raw: BinaryIO, compression: Compression | str | None) -> BinaryIO:
    """`raw` read through its codec (itself when `compression` is None)."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if compression == "bzip2":
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    return raw


def read_error(url: str, compression: Compression | str | None, exc: BaseException) -> SourceError:
    """One line for a file that could not be read, naming the file and its codec."""
    how = f" as {compression}" if compression else ""
    return SourceError(f"Cannot read {url}{how}: {exc}")
