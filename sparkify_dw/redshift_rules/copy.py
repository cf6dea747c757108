"""COPY statements, as sqlalchemy-redshift's CopyCommand or as text, and TIMEFORMAT /
DATEFORMAT strings, checked against the rules."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sparkify_dw.redshift_rules.ddl import Token, _Tokens, check_ddl, statements
from sparkify_dw.redshift_rules.rules import (
    DATETIME_FORMATS_URL,
    DATETIME_PARTS,
    MAXERROR_LIMIT,
    NOT_WITH_JSON,
    TIMEFORMAT_KEYWORDS,
    Violation,
    _violation,
)
from sparkify_dw.redshift_rules.tables import _redshift_dialect

if TYPE_CHECKING:
    pass

# --- COPY --------------------------------------------------------------------------------------

# COPY's parameters (the alphabetical parameter list), by what follows them: nothing, a value
# (after an optional AS), or optionally a value or a word.
_FLAGS = {"ACCEPTANYDATE", "BLANKSASNULL", "BZIP2", "CSV", "EMPTYASNULL", "ENCRYPTED",
          "ESCAPE", "EXPLICIT_IDS", "FILLRECORD", "GZIP", "IGNOREALLERRORS", "IGNOREBLANKLINES",
          "LZOP", "MANIFEST", "NOLOAD", "ORC", "PARQUET", "REMOVEQUOTES", "ROUNDEC", "SHAPEFILE",
          "SSH", "TRIMBLANKS", "TRUNCATECOLUMNS", "ZSTD"}  # fmt: skip
_VALUED = {"ACCESS_KEY_ID", "COMPROWS", "CREDENTIALS", "DATEFORMAT", "DELIMITER", "ENCODING",
           "FIXEDWIDTH", "IAM_ROLE", "IGNOREHEADER", "MASTER_SYMMETRIC_KEY", "MAXERROR", "NULL",
           "QUOTE", "READRATIO", "REGION", "SECRET_ACCESS_KEY", "SESSION_TOKEN",
           "TIMEFORMAT"}  # fmt: skip
_OPTIONAL_VALUE = {"ACCEPTINVCHARS", "AVRO", "JSON"}
_OPTIONAL_WORD = {"COMPUPDATE": {"ON", "OFF", "TRUE", "FALSE", "PRESET"},
                  "STATUPDATE": {"ON", "OFF", "TRUE", "FALSE"}}  # fmt: skip
_DATA_FORMATS = ("JSON", "CSV", "AVRO", "FIXEDWIDTH", "SHAPEFILE", "PARQUET", "ORC")


@dataclass(frozen=True)
class CopySpec:
    """A COPY as its text says: target, source, parameters (name -> value or None), and the
    words that are not COPY parameters."""

    table: str
    source: str
    parameters: dict[str, str | None]
    unknown: tuple[str, ...] = ()

    @property
    def data_format(self) -> str | None:
        return next((f for f in _DATA_FORMATS if f in self.parameters), None)


def parse_copy(sql: str) -> CopySpec:
    """The CopySpec of one COPY statement's text."""
    parsed = [s for s in statements(sql) if s[0].upper == "COPY"]
    if len(parsed) != 1:
        raise ValueError(f"not one COPY statement: {sql[:200]!r}")
    return _copy_spec(parsed[0])


def _copy_spec(tokens: Sequence[Token]) -> CopySpec:
    cursor = _Tokens(tokens[1:])
    table = cursor.name()
    if cursor.peek() == "(":
        cursor.group()
    cursor.accept("FROM")
    source = cursor.next().value
    parameters: dict[str, str | None] = {}
    unknown: list[str] = []
    while not cursor.done():
        word = cursor.next().upper
        if word in (",", "WITH"):
            continue
        if word == "FORMAT":
            cursor.accept("AS")
            continue
        value: str | None = None
        if word in _VALUED or word in _OPTIONAL_VALUE:
            if (
                word in _VALUED
                or cursor.peek() == "AS"
                or cursor.peek()[:1] in ("'", *"0123456789")
            ):
                cursor.accept("AS")
                value = cursor.next().value
        elif word in _OPTIONAL_WORD:
            if cursor.peek() in _OPTIONAL_WORD[word]:
                value = cursor.next().upper
        elif word not in _FLAGS:
            unknown.append(word)
            continue
        parameters[word] = value
    return CopySpec(table, source, parameters, tuple(unknown))


def copy_text(command: Any) -> str:
    """A CopyCommand compiled for Redshift with its values inline: the text Redshift gets."""
    compiled = command.compile(dialect=_redshift_dialect(), compile_kwargs={"literal_binds": True})
    return str(compiled)


def check_copy(copy: Any) -> list[Violation]:
    """The COPY rules over a COPY: a sqlalchemy-redshift CopyCommand, its text, or a
    CopySpec."""
    if isinstance(copy, CopySpec):
        spec = copy
    else:
        spec = parse_copy(copy if isinstance(copy, str) else copy_text(copy))
    return list(_check_copy(spec))


def check_sql(sql: str) -> list[Violation]:
    """`check_ddl` over a script and `check_copy` over each of its COPY statements: what
    `sparkify-dw sql --dialect redshift` prints, checked in one call."""
    found = dict.fromkeys(check_ddl(sql))
    for tokens in statements(sql):
        if tokens[0].upper == "COPY":
            found.update(dict.fromkeys(_check_copy(_copy_spec(tokens))))
    return list(found)


def _check_copy(spec: CopySpec) -> Iterator[Violation]:
    where = f"COPY {spec.table}"
    for word in spec.unknown:
        yield _violation("copy-parameters", where, f"{word} is not a COPY parameter")
    params = spec.parameters
    if spec.data_format == "JSON":
        option = params["JSON"]
        if option is not None and not (
            option in ("auto", "auto ignorecase", "noshred") or option.startswith("s3://")
        ):
            yield _violation(
                "copy-json",
                where,
                f"JSON {option!r}: 'auto', 'auto ignorecase', 'noshred' or an s3:// JSONPaths file",
            )
        for name in NOT_WITH_JSON:
            if name in params:
                shown = "NULL AS" if name == "NULL" else name
                yield _violation("copy-json", where, f"{shown} is not supported with JSON")
    if "MAXERROR" in params:
        raw = params["MAXERROR"] or ""
        if not (raw.isdigit() and 0 <= int(raw) <= MAXERROR_LIMIT):
            yield _violation(
                "copy-maxerror",
                where,
                f"MAXERROR {raw}: Redshift takes a whole number from 0 to {MAXERROR_LIMIT}",
            )
    for name, problem in (("TIMEFORMAT", timeformat_problem), ("DATEFORMAT", dateformat_problem)):
        if name in params:
            message = problem(params[name] or "")
            if message:
                yield _violation("copy-timeformat", where, message)


def timeformat_problem(value: str) -> str | None:
    """Why Redshift's COPY would refuse `TIMEFORMAT 'value'`, or None."""
    if value in TIMEFORMAT_KEYWORDS:
        return None
    if value.lower() in TIMEFORMAT_KEYWORDS:
        return f"TIMEFORMAT {value!r}: the keyword is {value.lower()!r} (they are case-sensitive)"
    problem = _format_string_problem(value)
    if problem is None:
        return None
    return (
        f"TIMEFORMAT {value!r} is neither 'auto', 'epochsecs' nor 'epochmillisecs' (spelled "
        f"exactly) nor a format string: {problem} ({DATETIME_FORMATS_URL})"
    )


def dateformat_problem(value: str) -> str | None:
    """Why Redshift's COPY would refuse `DATEFORMAT 'value'`, or None."""
    if value == "auto":
        return None
    problem = _format_string_problem(value)
    if problem is None:
        return None
    return f"DATEFORMAT {value!r} is neither 'auto' nor a format string: {problem}"


def _format_string_problem(value: str) -> str | None:
    """A DATEFORMAT/TIMEFORMAT string is dateparts and timeparts (upper case, as listed; no
    time zone) and the separators between them."""
    at, parts = 0, 0
    while at < len(value):
        if not value[at].isalnum():
            at += 1
            continue
        part = next((p for p in DATETIME_PARTS if value.startswith(p, at)), None)
        if part is None:
            return f"{value[at:]!r} does not start with one of {', '.join(DATETIME_PARTS)}"
        at += len(part)
        parts += 1
    return None if parts else "it has no datepart or timepart"
