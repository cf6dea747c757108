"""The rules: one per AWS page, with the limits and names the pages give, and what a
broken rule is (`Violation`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

DG = "https://docs.aws.amazon.com/redshift/latest/dg/"


@dataclass(frozen=True)
class Rule:
    """One documented behaviour: its name, the AWS page that states it, and what it says."""

    name: str
    url: str
    says: str


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("data-type", f"{DG}c_Supported_data_types.html",
             "A column's type is one of Redshift's data types or their aliases."),
        Rule("encode-type", f"{DG}c_Compression_encodings.html",
             "ENCODE names an encoding Redshift has, and that encoding supports the column's "
             "type (the encodings table; each encoding's own page)."),
        Rule("varchar-bytes", f"{DG}r_Character_types.html",
             "VARCHAR holds at most 65535 bytes (VARCHAR(MAX)), CHAR at most 4096."),
        Rule("identity-type", f"{DG}r_CREATE_TABLE_NEW.html#identity-clause",
             "An IDENTITY column is INT or BIGINT."),
        Rule("distribution", f"{DG}r_CREATE_TABLE_NEW.html",
             "DISTSTYLE is AUTO, EVEN, KEY or ALL; KEY needs a DISTKEY; a DISTKEY needs KEY (or "
             "no DISTSTYLE); one DISTKEY, a column of the table."),
        Rule("sort-key", f"{DG}r_CREATE_TABLE_NEW.html#r_CREATE_TABLE_NEW-parameters",
             "SORTKEY columns are columns of the table, named once; at most 400 in a compound "
             "sort key, 8 in an interleaved one; a column-level SORTKEY is one column."),
        Rule("table-limits", f"{DG}r_CREATE_TABLE_NEW.html#r_CREATE_TABLE_usage-limits",
             "At most 1,600 columns, each named once; table and column names of at most 127 "
             "bytes."),
        Rule("alter-table", f"{DG}r_ALTER_TABLE.html",
             "ALTER COLUMN TYPE changes a VARCHAR's size only, outside a transaction block and "
             "not on a key or BYTEDICT/RUNLENGTH/TEXT255/TEXT32K column; ADD COLUMN adds no "
             "DISTKEY, SORTKEY, IDENTITY or key; ALTER COLUMN ENCODE changes the encoding; "
             "no ALTER DISTKEY/DISTSTYLE EVEN|ALL/ENCODE on an interleaved sort key."),
        Rule("copy-parameters", f"{DG}r_COPY-alphabetical-parm-list.html",
             "Every COPY parameter is one of COPY's parameters."),
        Rule("copy-json", f"{DG}copy-parameters-data-format.html#copy-json",
             "JSON takes 'auto', 'auto ignorecase', 'noshred' or an s3:// JSONPaths file, and "
             "no CSV, DELIMITER, ESCAPE, FILLRECORD, FIXEDWIDTH, IGNOREBLANKLINES, NULL AS, "
             "READRATIO or REMOVEQUOTES."),
        Rule("copy-maxerror", f"{DG}copy-parameters-data-load.html#copy-maxerror",
             "MAXERROR is a whole number from 0 to 100000."),
        Rule("copy-timeformat", f"{DG}copy-parameters-data-conversion.html#copy-timeformat",
             "TIMEFORMAT is 'auto', 'epochsecs' or 'epochmillisecs' (case-sensitive) or a "
             "format string of the DATEFORMAT and TIMEFORMAT strings page; DATEFORMAT is "
             "'auto' or such a string."),
    )
}  # fmt: skip

DATETIME_FORMATS_URL = f"{DG}r_DATEFORMAT_and_TIMEFORMAT_strings.html"


@dataclass(frozen=True)
class Encoding:
    """A column compression encoding: the types it supports, as its page lists them."""

    keyword: str
    types: frozenset[str] | None  # None: every type (RAW)
    url: str


_INTS = ("SMALLINT", "INTEGER", "BIGINT")
_TIMES = ("DATE", "TIMESTAMP", "TIMESTAMPTZ")
_TEXT = ("CHAR", "VARCHAR")
_FLOATS = ("REAL", "DOUBLE PRECISION")


def _encodings(*rows: tuple[str, Sequence[str] | None, str]) -> dict[str, Encoding]:
    return {k: Encoding(k, None if t is None else frozenset(t), DG + page) for k, t, page in rows}


# The table "supported compression encodings and the data types that support the encoding".
ENCODINGS = _encodings(
    ("raw", None, "c_Raw_encoding.html"),
    ("az64", (*_INTS, "DECIMAL", *_TIMES), "az64-encoding.html"),
    ("bytedict", (*_INTS, "DECIMAL", *_FLOATS, *_TEXT, *_TIMES), "c_Byte_dictionary_encoding.html"),
    ("delta", (*_INTS, "DATE", "TIMESTAMP", "DECIMAL"), "c_Delta_encoding.html"),
    ("delta32k", ("INTEGER", "BIGINT", "DATE", "TIMESTAMP", "DECIMAL"), "c_Delta_encoding.html"),
    ("lzo", (*_INTS, "DECIMAL", *_TEXT, *_TIMES, "SUPER"), "lzo-encoding.html"),
    ("mostly8", (*_INTS, "DECIMAL"), "c_MostlyN_encoding.html"),
    ("mostly16", ("INTEGER", "BIGINT", "DECIMAL"), "c_MostlyN_encoding.html"),
    ("mostly32", ("BIGINT", "DECIMAL"), "c_MostlyN_encoding.html"),
    ("runlength", (*_INTS, "DECIMAL", *_FLOATS, "BOOLEAN", *_TEXT, *_TIMES),
     "c_Runlength_encoding.html"),
    ("text255", ("VARCHAR",), "c_Text255_encoding.html"),
    ("text32k", ("VARCHAR",), "c_Text255_encoding.html"),
    ("zstd", (*_INTS, "DECIMAL", *_FLOATS, "BOOLEAN", *_TEXT, *_TIMES), "zstd-encoding.html"),
)  # fmt: skip

# Redshift's data types and their aliases (the "Data types" page), as the canonical name.
_TYPE_NAMES = {
    "SMALLINT": ("INT2",), "INTEGER": ("INT", "INT4"), "BIGINT": ("INT8",),
    "DECIMAL": ("NUMERIC",), "REAL": ("FLOAT4",), "DOUBLE PRECISION": ("FLOAT8", "FLOAT"),
    "BOOLEAN": ("BOOL",), "CHAR": ("CHARACTER", "NCHAR", "BPCHAR"),
    "VARCHAR": ("CHARACTER VARYING", "NVARCHAR", "TEXT"), "DATE": (),
    "TIME": ("TIME WITHOUT TIME ZONE",), "TIMETZ": ("TIME WITH TIME ZONE",),
    "TIMESTAMP": ("TIMESTAMP WITHOUT TIME ZONE",), "TIMESTAMPTZ": ("TIMESTAMP WITH TIME ZONE",),
    "INTERVAL YEAR TO MONTH": (), "INTERVAL DAY TO SECOND": (), "HLLSKETCH": (), "SUPER": (),
    "VARBYTE": ("VARBINARY", "BINARY VARYING"), "GEOMETRY": (), "GEOGRAPHY": (),
}  # fmt: skip
TYPES = {alias: name for name, aliases in _TYPE_NAMES.items() for alias in (name, *aliases)}

MAX_VARCHAR_BYTES = 65535
MAX_CHAR_BYTES = 4096
MAX_COLUMNS = 1600
MAX_NAME_BYTES = 127
MAX_COMPOUND_SORTKEY = 400
MAX_INTERLEAVED_SORTKEY = 8
IDENTITY_TYPES = frozenset({"INTEGER", "BIGINT"})
DISTSTYLES = frozenset({"AUTO", "EVEN", "KEY", "ALL"})
MAXERROR_LIMIT = 100_000
TIMEFORMAT_KEYWORDS = ("auto", "epochsecs", "epochmillisecs")
# The dateparts and timeparts, longest first so that a string is read greedily.
DATETIME_PARTS = ("YYYY", "HH24", "HH12", "MON", "YY", "MM", "DD", "HH", "MI", "SS", "AM", "PM")
NOT_WITH_JSON = ("CSV", "DELIMITER", "ESCAPE", "FILLRECORD", "FIXEDWIDTH", "IGNOREBLANKLINES",
                 "NULL", "READRATIO", "REMOVEQUOTES")  # fmt: skip


@dataclass(frozen=True)
class Violation:
    """Something Redshift would refuse: the rule, where (table.column, table, COPY …), why."""

    rule: Rule
    subject: str
    message: str
    url: str = ""  # a more precise page than the rule's (an encoding's own page)

    def __str__(self) -> str:
        return f"{self.subject}: {self.message} [{self.rule.name}: {self.url or self.rule.url}]"


def _violation(rule: str, subject: str, message: str, url: str = "") -> Violation:
    return Violation(RULES[rule], subject, message, url)


class RedshiftRuleError(ValueError):
    """Raised by `require_none` with every violation, one a line."""


def require_none(violations: Iterable[Violation]) -> None:
    """Raise RedshiftRuleError listing the violations, if there are any."""
    found = list(violations)
    if found:
        lines = "\n".join(f"  {v}" for v in found)
        raise RedshiftRuleError(f"{len(found)} thing(s) Redshift would refuse:\n{lines}")
