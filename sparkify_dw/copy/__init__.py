"""COPY, Redshift's bulk load, on every engine.

`options` is the vocabulary both ways share (CopyOptions, StageOptions, Reject, CopyResult);
`redshift` builds and sends Redshift's own COPY; `emulation` reads the files on the local
engines (`jsonread` records, `jsonpaths` expressions, `convert` Redshift's conversions) and
appends batches through the engine's bulk writer. Which one runs is the engine's backend's
choice (`sparkify_dw.backends.copy_into`).
"""

from __future__ import annotations

from sparkify_dw.copy.options import (
    Compression,
    CopyOptions,
    CopyResult,
    FileStats,
    Progress,
    Reject,
    StageOptions,
)

__all__ = [
    "Compression",
    "CopyOptions",
    "CopyResult",
    "FileStats",
    "Progress",
    "Reject",
    "StageOptions",
]
