"""The COPY vocabulary every engine shares: what a COPY is asked to do and what it reports.

Redshift's real COPY (copy/redshift.py) and the local engines' emulation (copy/emulation.py)
both take these options and return these results; nothing here reads a file or a table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from sparkify_dw.copy.convert import ConversionOptions
from sparkify_dw.errors import ConfigError
from sparkify_dw.redshift_rules import timeformat_problem
from sparkify_dw.sources import SourceObject

Compression = Literal["gzip", "bzip2"]

# Redshift refuses a larger MAXERROR (Database Developer Guide, COPY, "MAXERROR").
MAX_MAXERROR = 100_000

# Called with (bytes read so far, bytes in all files) after each file.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CopyOptions:
    """The COPY options the library supports (names as in Redshift's COPY)."""

    jsonpaths: str | None = None  # location of a JSONPaths file; None means JSON 'auto'
    ignore_case: bool = False  # JSON 'auto ignorecase'
    max_error: int = 0  # MAXERROR: Redshift's default is 0
    timeformat: str | None = None  # TIMEFORMAT 'epochmillisecs' | 'epochsecs' | 'auto'
    truncate_columns: bool = False  # TRUNCATECOLUMNS
    blanks_as_null: bool = False  # BLANKSASNULL
    empty_as_null: bool = False  # EMPTYASNULL
    compression: Compression | None = None  # GZIP | BZIP2
    manifest: bool = False  # MANIFEST: the location is a manifest file
    # Redshift only: the role COPY assumes to read S3, and the bucket's region when it differs
    # (None: looked up with boto3 and added when it is not the cluster's)
    iam_role_arn: str | None = None
    region: str | None = None
    comp_update: bool = False  # COMPUPDATE OFF: the encodings are declared on the models
    # Fresh statistics after the COPY, for the transforms' joins: on Redshift an ANALYZE of its
    # own after a COPY with STATUPDATE OFF (docs/redshift.md), locally the emulation's ANALYZE.
    stat_update: bool = True
    # Exactly these objects (the file ledger's choice among what `location` names), in
    # place of listing the location; None: every object it names.
    objects: tuple[SourceObject, ...] | None = None
    # Redshift: the S3 prefix where the library writes the manifest of `objects` for the COPY
    # (removed after it); None: no ledger on Redshift, the COPY reads the whole location.
    manifest_prefix: str | None = None

    def __post_init__(self) -> None:
        check_max_error(self.max_error)
        check_timeformat(self.timeformat)

    def conversion(self) -> ConversionOptions:
        return ConversionOptions(
            truncate_columns=self.truncate_columns,
            blanks_as_null=self.blanks_as_null,
            empty_as_null=self.empty_as_null,
            timeformat=self.timeformat,
        )


def check_max_error(value: int) -> None:
    """A ConfigError unless 0 <= value <= 100000, the range Redshift's COPY takes."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MAXERROR:
        raise ConfigError(
            f"MAXERROR must be a whole number from 0 to {MAX_MAXERROR:,}, not {value!r}"
        )


def check_timeformat(value: str | None) -> None:
    """A ConfigError unless Redshift's COPY takes TIMEFORMAT `value` ('auto', 'epochsecs',
    'epochmillisecs', spelled exactly, or a format string; None: not set). The emulation would
    otherwise read a misspelt keyword as 'auto' and a Redshift load would fail on it."""
    problem = None if value is None else timeformat_problem(value)
    if problem is not None:
        raise ConfigError(problem)


@dataclass(frozen=True)
class StageOptions:
    """What both COPYs of a load read and how: locations (local paths or s3:// URIs) and options."""

    song_data: str
    log_data: str
    log_jsonpath: str
    max_error: int = 0  # MAXERROR, per COPY
    iam_role_arn: str | None = None  # Redshift: the role its COPY assumes to read S3
    region: str | None = None  # Redshift: the bucket's region when it differs from the cluster's
    compression: Compression | None = None  # GZIP | BZIP2: every data file is compressed
    manifest: bool = False  # MANIFEST: song_data and log_data name manifest files
    # Redshift: an S3 prefix the loader may write: the file ledger's manifests go there
    manifest_prefix: str | None = None

    def copy_options(self) -> tuple[CopyOptions, CopyOptions]:
        """The songs COPY (JSON 'auto') and the events COPY (the JSONPaths file)."""
        songs = CopyOptions(
            max_error=self.max_error,
            iam_role_arn=self.iam_role_arn,
            region=self.region,
            compression=self.compression,
            manifest=self.manifest,
            manifest_prefix=self.manifest_prefix,
        )
        return songs, replace(songs, jsonpaths=self.log_jsonpath)


@dataclass(frozen=True)
class Reject:
    """One rejected record, with the fields of Redshift's STL_LOAD_ERRORS."""

    filename: str
    line_number: int
    colname: str
    type: str
    raw_line: str
    raw_field_value: str
    err_code: int
    err_reason: str

    def describe(self) -> str:
        column = f", column {self.colname}" if self.colname else ""
        return f"{self.filename}:{self.line_number}{column}: {self.err_reason} ({self.err_code})"


@dataclass
class FileStats:
    url: str
    rows: int = 0
    rejected: int = 0


@dataclass(frozen=True, repr=False)
class CopyResult:
    table: str
    location: str
    rows: int
    files: tuple[FileStats, ...]
    rejects: tuple[Reject, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        # Counts, not every file's FileStats: the reference load's songs are 1,943 files.
        return (
            f"CopyResult(table={self.table!r}, location={self.location!r}, rows={self.rows:,}, "
            f"files={len(self.files):,}, rejects={len(self.rejects):,}, "
            f"warnings={len(self.warnings)})"
        )
