"""SQLAlchemy tables and their `redshift_*` options, checked against the rules."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sparkify_dw.redshift_rules.rules import (
    DISTSTYLES,
    ENCODINGS,
    IDENTITY_TYPES,
    MAX_CHAR_BYTES,
    MAX_COLUMNS,
    MAX_COMPOUND_SORTKEY,
    MAX_INTERLEAVED_SORTKEY,
    MAX_NAME_BYTES,
    MAX_VARCHAR_BYTES,
    TYPES,
    Violation,
    _violation,
)

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

# --- Tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnSpec:
    """A column as Redshift sees it: canonical type name, length (CHAR/VARCHAR), attributes."""

    name: str
    type: str  # the canonical name (TYPES), or the declared text when Redshift has no such type
    length: int | str | None = None  # CHAR/VARCHAR bytes, "MAX", or None
    encode: str | None = None  # lower case
    identity: bool = False
    nullable: bool = True
    known_type: bool = True


@dataclass(frozen=True)
class TableSpec:
    """A table's columns and physical design, from a SQLAlchemy Table or from its DDL."""

    name: str
    columns: tuple[ColumnSpec, ...]
    diststyle: str | None = None  # upper case; None: not declared (AUTO)
    distkeys: tuple[str, ...] = ()  # every DISTKEY declared, table or column level
    sortkey: tuple[str, ...] = ()
    interleaved: bool = False
    column_sortkeys: tuple[str, ...] = ()  # columns declared SORTKEY at the column level
    keys: frozenset[str] = frozenset()  # columns of a PRIMARY KEY, UNIQUE or FOREIGN KEY

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


def parse_type(text: str) -> tuple[str, int | str | None, bool]:
    """(canonical type, CHAR/VARCHAR length, known) of a type as DDL writes it."""
    flat = " ".join(text.upper().split())
    match = re.fullmatch(r"(.*?)\s*(?:\(\s*([^)]*?)\s*\))?((?:\s+[A-Z]+)*)", flat)
    assert match is not None  # the pattern matches any text
    base, args, rest = match.groups()
    declared = f"{base}{rest}".strip()
    name = TYPES.get(declared)
    if name is None:
        return flat, None, False
    length: int | str | None = None
    if declared == "TEXT":
        length = 256  # "TEXT: converted to VARCHAR(256)"
    elif declared == "BPCHAR":
        length = 256
    elif name in ("CHAR", "VARCHAR") and args:
        length = int(args) if args.isdigit() else args
    return name, length, True


def _names(keys: Any) -> tuple[str, ...]:
    """A redshift_distkey/redshift_sortkey option (a name, a Column, or several) as names."""
    if keys is None or keys is False:
        return ()
    if isinstance(keys, str) or hasattr(keys, "name"):
        keys = [keys]
    return tuple(getattr(key, "name", key) for key in keys)


def table_spec(table: Table) -> TableSpec:
    """The TableSpec of a SQLAlchemy table, its types compiled as sqlalchemy-redshift does."""
    from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint
    from sqlalchemy.exc import CompileError, UnsupportedCompilationError

    dialect = _redshift_dialect()
    columns = []
    column_distkeys, column_sortkeys = [], []
    for column in table.columns:
        info = column.dialect_options["redshift"]
        try:
            type_text = dialect.type_compiler_instance.process(column.type)
        except (CompileError, UnsupportedCompilationError) as exc:
            type_text = f"{type(column.type).__name__} ({exc})"
        type_name, length, known = parse_type(type_text)
        columns.append(
            ColumnSpec(
                name=column.name,
                type=type_name,
                length=length,
                encode=str(info["encode"]).lower() if info["encode"] else None,
                identity=bool(info["identity"]),
                nullable=bool(column.nullable),
                known_type=known,
            )
        )
        if info["distkey"]:
            column_distkeys.append(column.name)
        if info["sortkey"]:
            column_sortkeys.append(column.name)
    options = table.dialect_options["redshift"]
    keys = {
        c.name
        for constraint in table.constraints
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint)
        for c in constraint.columns
    } | {fk.parent.name for fk in table.foreign_keys}
    interleaved = _names(options["interleaved_sortkey"])
    diststyle = options["diststyle"]
    return TableSpec(
        name=table.name,
        columns=tuple(columns),
        diststyle=str(diststyle).upper() if diststyle else None,
        distkeys=tuple(dict.fromkeys((*_names(options["distkey"]), *column_distkeys))),
        sortkey=interleaved or _names(options["sortkey"]) or tuple(column_sortkeys[:1]),
        interleaved=bool(interleaved),
        column_sortkeys=tuple(column_sortkeys),
        keys=frozenset(keys),
    )


def _redshift_dialect() -> Any:
    from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

    return RedshiftDialect_redshift_connector(paramstyle="named")


def check_table(table: Table | TableSpec) -> list[Violation]:
    """Every table rule (types, encodings, lengths, IDENTITY, distribution, sort key, limits)."""
    spec = table if isinstance(table, TableSpec) else table_spec(table)
    return list(_check_table(spec))


def check_metadata(metadata: MetaData) -> list[Violation]:
    """`check_table` over every table of a MetaData (e.g. `sparkify_dw.models.Base.metadata`)."""
    return [v for table in metadata.sorted_tables for v in check_table(table)]


def _check_table(spec: TableSpec) -> Iterator[Violation]:
    t = spec.name
    names = [c.name for c in spec.columns]
    if len(spec.columns) > MAX_COLUMNS:
        yield _violation("table-limits", t, f"{len(spec.columns)} columns, over {MAX_COLUMNS:,}")
    for name in dict.fromkeys(n for n in names if names.count(n) > 1):
        yield _violation("table-limits", t, f"column {name} is defined more than once")
    for name in (t, *names):
        if len(name.encode()) > MAX_NAME_BYTES:
            yield _violation("table-limits", t, f"name {name!r} is over {MAX_NAME_BYTES} bytes")
    for column in spec.columns:
        yield from _check_column(t, column)
    yield from _check_distribution(spec)
    yield from _check_sortkey(spec)


def _check_column(table: str, column: ColumnSpec) -> Iterator[Violation]:
    where = f"{table}.{column.name}"
    if not column.known_type:
        yield _violation("data-type", where, f"{column.type} is not a Redshift data type")
        return
    if column.encode is not None:
        encoding = ENCODINGS.get(column.encode)
        if encoding is None:
            yield _violation("encode-type", where, f"ENCODE {column.encode}: no such encoding")
        elif encoding.types is not None and column.type not in encoding.types:
            takes = ", ".join(sorted(encoding.types))
            yield _violation(
                "encode-type",
                where,
                f"ENCODE {column.encode} on {column.type}; {column.encode} takes {takes}",
                encoding.url,
            )
    if column.type in ("CHAR", "VARCHAR") and column.length is not None:
        limit = MAX_VARCHAR_BYTES if column.type == "VARCHAR" else MAX_CHAR_BYTES
        length = column.length
        if not (length == "MAX" or (isinstance(length, int) and 1 <= length <= limit)):
            yield _violation(
                "varchar-bytes",
                where,
                f"{column.type}({length}): the length is 1 to {limit} bytes, or MAX",
            )
    if column.identity and column.type not in IDENTITY_TYPES:
        yield _violation("identity-type", where, f"IDENTITY on {column.type}, not INT or BIGINT")


def _check_distribution(spec: TableSpec) -> Iterator[Violation]:
    t, style = spec.name, spec.diststyle
    if style is not None and style not in DISTSTYLES:
        yield _violation("distribution", t, f"DISTSTYLE {style}: not AUTO, EVEN, KEY or ALL")
    if len(spec.distkeys) > 1:
        yield _violation("distribution", t, f"{len(spec.distkeys)} DISTKEYs: one column only")
    for key in spec.distkeys:
        if spec.column(key) is None:
            yield _violation("distribution", t, f"DISTKEY {key}: no such column")
    if style == "KEY" and not spec.distkeys:
        yield _violation("distribution", t, "DISTSTYLE KEY without a DISTKEY column")
    if spec.distkeys and style not in (None, "KEY"):
        yield _violation("distribution", t, f"a DISTKEY with DISTSTYLE {style} (KEY or none)")


def _check_sortkey(spec: TableSpec) -> Iterator[Violation]:
    t, keys = spec.name, spec.sortkey
    for key in dict.fromkeys(keys):
        if spec.column(key) is None:
            yield _violation("sort-key", t, f"SORTKEY {key}: no such column")
        if keys.count(key) > 1:
            yield _violation("sort-key", t, f"SORTKEY names {key} more than once")
    limit = MAX_INTERLEAVED_SORTKEY if spec.interleaved else MAX_COMPOUND_SORTKEY
    if len(keys) > limit:
        kind = "an interleaved" if spec.interleaved else "a compound"
        yield _violation("sort-key", t, f"{len(keys)} columns in {kind} sort key, over {limit}")
    if len(spec.column_sortkeys) > 1:
        yield _violation("sort-key", t, "more than one column declared SORTKEY at column level")
