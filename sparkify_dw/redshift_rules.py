"""What Redshift accepts, from its documentation, checked on tables, DDL scripts and COPYs.

Parsing a statement with a Redshift grammar says it is well formed, not that a cluster runs it:
`ENCODE az64` on a DOUBLE PRECISION column, `VARCHAR(70000)`, `TIMEFORMAT 'epochmilisecs'` and
`MAXERROR 200000` all parse, and Redshift refuses each one. `RULES` says what the AWS pages say,
one rule per page (docs/redshift.md lists them), and the `check_*` functions apply them:

- `check_table` / `check_metadata`: SQLAlchemy tables and their `redshift_*` options;
- `check_ddl`: a DDL script as Redshift receives it (`sparkify-dw sql`, `alembic upgrade
  --sql`): CREATE TABLE, DROP TABLE and the ALTER TABLEs a hand-written migration uses, in order;
- `check_copy`: a COPY, as sqlalchemy-redshift's `CopyCommand` or as text;
- `check_sql`: a whole script (`sparkify-dw sql --dialect redshift`), DDL and COPYs.

Each returns the `Violation`s found (an empty list: nothing known to be refused). Nothing here
connects to a database; SQLAlchemy and sqlalchemy-redshift are imported only when a table or a
CopyCommand is checked. What the pages do not say is not checked (an S3 key that exists, a
format string that matches the data), so an empty list is necessary, not sufficient.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

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


# --- SQL text ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|/\*.*?\*/)|(?P<string>'(?:[^']|'')*')|(?P<ident>"(?:[^"]|"")*")"""
    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<number>\d+)|(?P<punct>\S)""",
    re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string | ident | word | number | punct
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text

    @property
    def value(self) -> str:
        """A string's or a quoted identifier's content, a word's or number's text."""
        if self.kind in ("string", "ident"):
            quote = self.text[0]
            return self.text[1:-1].replace(quote * 2, quote)
        return self.text


def statements(sql: str) -> list[list[Token]]:
    """The statements of a script (`;`-separated, comments dropped), as tokens."""
    result: list[list[Token]] = [[]]
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or ""
        if kind == "space":
            continue
        if match.group() == ";":
            result.append([])
        else:
            result[-1].append(Token(kind, match.group()))
    return [s for s in result if s]


class _Tokens:
    """A cursor over one statement's tokens."""

    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens, self.at = tokens, 0

    def peek(self, ahead: int = 0) -> str:
        index = self.at + ahead
        return self.tokens[index].upper if index < len(self.tokens) else ""

    def next(self) -> Token:
        token = self.tokens[self.at] if self.at < len(self.tokens) else Token("punct", "")
        self.at += 1
        return token

    def accept(self, *words: str) -> bool:
        if all(self.peek(i) == w for i, w in enumerate(words)):
            self.at += len(words)
            return True
        return False

    def done(self) -> bool:
        return self.at >= len(self.tokens)

    def name(self) -> str:
        """A (possibly schema-qualified) name: its last part, unquoted, lower case if bare."""
        token = self.next()
        while self.peek() == ".":
            self.next()
            token = self.next()
        return token.value if token.kind == "ident" else token.text.lower()

    def group(self) -> list[list[Token]]:
        """A parenthesised list: its items (top-level commas), the cursor after `)`."""
        assert self.next().text == "("
        items: list[list[Token]] = [[]]
        depth = 0
        while not self.done():
            token = self.next()
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                if depth == 0:
                    break
                depth -= 1
            elif token.text == "," and depth == 0:
                items.append([])
                continue
            items[-1].append(token)
        return [item for item in items if item]

    def names(self) -> tuple[str, ...]:
        return tuple(_Tokens(item).name() for item in self.group())


_COLUMN_WORDS = {"IDENTITY", "GENERATED", "ENCODE", "DISTKEY", "SORTKEY", "NOT", "NULL",
                 "DEFAULT", "PRIMARY", "UNIQUE", "REFERENCES", "COLLATE", "CONSTRAINT"}  # fmt: skip
_CONSTRAINT_WORDS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "LIKE"}


@dataclass
class _ColumnDef:
    spec: ColumnSpec
    distkey: bool = False
    sortkey: bool = False
    key: bool = False


def _column_def(tokens: Sequence[Token]) -> _ColumnDef:
    cursor = _Tokens(tokens)
    name = cursor.name()
    type_tokens: list[str] = []
    while not cursor.done() and cursor.peek() not in _COLUMN_WORDS:
        type_tokens.append(cursor.next().text)
    type_name, length, known = parse_type(" ".join(type_tokens).replace(" (", "("))
    column = _ColumnDef(ColumnSpec(name, type_name, length, known_type=known))
    spec = column.spec
    while not cursor.done():
        if cursor.accept("IDENTITY") or cursor.accept(
            "GENERATED", "BY", "DEFAULT", "AS", "IDENTITY"
        ):
            spec = replace(spec, identity=True)
        elif cursor.accept("ENCODE"):
            spec = replace(spec, encode=cursor.next().text.lower())
        elif cursor.accept("DISTKEY"):
            column.distkey = True
        elif cursor.accept("SORTKEY"):
            column.sortkey = True
        elif cursor.accept("NOT", "NULL"):
            spec = replace(spec, nullable=False)
        elif (
            cursor.accept("PRIMARY", "KEY")
            or cursor.accept("UNIQUE")
            or cursor.accept("REFERENCES")
        ):
            column.key = True
        elif cursor.peek() == "(":
            cursor.group()
        else:
            cursor.next()
    column.spec = spec
    return column


def _create_table(cursor: _Tokens) -> TableSpec | None:
    """CREATE [LOCAL] [TEMP|TEMPORARY] TABLE [IF NOT EXISTS] name (…) attributes; None for
    CREATE TABLE … AS and anything else it does not read."""
    for word in ("LOCAL", "TEMPORARY", "TEMP", "UNLOGGED"):
        cursor.accept(word)
    if not cursor.accept("TABLE"):
        return None
    cursor.accept("IF", "NOT", "EXISTS")
    name = cursor.name()
    if cursor.peek() != "(":
        return None
    columns: list[_ColumnDef] = []
    keys: set[str] = set()
    for item in cursor.group():
        first = item[0].upper if item[0].kind == "word" else ""
        if first in _CONSTRAINT_WORDS:
            if first != "CHECK":
                keys.update(_constraint_columns(item))
            continue
        columns.append(_column_def(item))
    spec = TableSpec(
        name=name,
        columns=tuple(c.spec for c in columns),
        distkeys=tuple(c.spec.name for c in columns if c.distkey),
        column_sortkeys=tuple(c.spec.name for c in columns if c.sortkey),
        keys=frozenset(keys | {c.spec.name for c in columns if c.key}),
    )
    spec = replace(spec, sortkey=spec.column_sortkeys[:1])
    while not cursor.done():
        if cursor.accept("DISTSTYLE"):
            spec = replace(spec, diststyle=cursor.next().upper)
        elif cursor.accept("DISTKEY"):
            spec = replace(spec, distkeys=tuple(dict.fromkeys((*cursor.names(), *spec.distkeys))))
        elif cursor.accept("SORTKEY", "AUTO") or cursor.accept("ENCODE", "AUTO"):
            continue
        elif cursor.accept("COMPOUND", "SORTKEY") or cursor.accept("SORTKEY"):
            spec = replace(spec, sortkey=cursor.names(), interleaved=False)
        elif cursor.accept("INTERLEAVED", "SORTKEY"):
            spec = replace(spec, sortkey=cursor.names(), interleaved=True)
        else:
            cursor.next()
    return spec


def _constraint_columns(item: Sequence[Token]) -> set[str]:
    cursor = _Tokens(item)
    while not cursor.done() and cursor.peek() != "(":
        cursor.next()
    return set(cursor.names()) if not cursor.done() else set()


@dataclass
class DDLState:
    """The tables a DDL script leaves, and whether it is inside a transaction block."""

    tables: dict[str, TableSpec] = field(default_factory=dict)
    in_transaction: bool = False


def check_ddl(sql: str, state: DDLState | None = None) -> list[Violation]:
    """Every rule over a DDL script, statement by statement: each table as CREATE TABLE makes
    it and as each ALTER TABLE leaves it, and the ALTER TABLE rules. Statements it does not
    read (INSERT, UPDATE, COMMENT, CREATE TABLE AS, …) are skipped. Pass a `state` to read
    the tables the script leaves (`ddl_tables` does)."""
    state = state if state is not None else DDLState()
    found: dict[Violation, None] = {}
    for tokens in statements(sql):
        for violation in _statement(_Tokens(tokens), state):
            found.setdefault(violation)
    return list(found)


def ddl_tables(sql: str) -> dict[str, TableSpec]:
    """The tables a DDL script leaves, by name (e.g. to compare a migration with a model)."""
    state = DDLState()
    check_ddl(sql, state)
    return state.tables


def _statement(cursor: _Tokens, state: DDLState) -> Iterator[Violation]:
    if cursor.accept("BEGIN") or cursor.accept("START", "TRANSACTION"):
        state.in_transaction = True
    elif cursor.peek() in ("COMMIT", "END", "ROLLBACK", "ABORT"):
        state.in_transaction = False
    elif cursor.accept("CREATE"):
        spec = _create_table(cursor)
        if spec is not None:
            state.tables[spec.name] = spec
            yield from _check_table(spec)
    elif cursor.accept("DROP", "TABLE"):
        cursor.accept("IF", "EXISTS")
        state.tables.pop(cursor.name(), None)
    elif cursor.accept("ALTER", "TABLE"):
        name = cursor.name()
        spec = state.tables.get(name)
        if spec is None:
            return  # a table this script did not create: nothing known to check against
        actions = [_Tokens(a) for a in _split_actions(cursor)]
        problems: list[Violation] = []
        for action in actions:
            spec = _alter(spec, action, state.in_transaction, problems)
        state.tables.pop(name)
        state.tables[spec.name] = spec
        yield from problems
        yield from _check_table(spec)


def _split_actions(cursor: _Tokens) -> list[list[Token]]:
    """`ALTER TABLE t a, b`: the comma-separated actions (commas inside parentheses kept)."""
    actions: list[list[Token]] = [[]]
    depth = 0
    while not cursor.done():
        token = cursor.next()
        depth += {"(": 1, ")": -1}.get(token.text, 0)
        if token.text == "," and depth == 0:
            actions.append([])
        else:
            actions[-1].append(token)
    return [a for a in actions if a]


def _alter(
    spec: TableSpec, a: _Tokens, in_transaction: bool, problems: list[Violation]
) -> TableSpec:
    """The table after one ALTER TABLE action; what the action itself breaks into `problems`."""
    t = spec.name

    def problem(message: str) -> None:
        problems.append(_violation("alter-table", t, message))

    if a.accept("ALTER", "DISTSTYLE"):
        style = a.next().upper
        if spec.interleaved and style in ("EVEN", "ALL"):
            problem(f"ALTER DISTSTYLE {style} on a table with an interleaved sort key")
        if style == "KEY" and a.accept("DISTKEY"):
            return replace(spec, diststyle="KEY", distkeys=(a.name(),))
        return replace(spec, diststyle=style, distkeys=() if style != "KEY" else spec.distkeys)
    if a.accept("ALTER", "DISTKEY"):
        if spec.interleaved:
            problem("ALTER DISTKEY on a table with an interleaved sort key")
        return replace(spec, diststyle="KEY", distkeys=(a.name(),))
    if a.accept("ALTER", "SORTKEY", "AUTO"):
        return spec
    if a.accept("ALTER", "SORTKEY", "NONE"):
        return replace(spec, sortkey=(), interleaved=False, column_sortkeys=())
    if a.accept("ALTER", "COMPOUND", "SORTKEY") or a.accept("ALTER", "SORTKEY"):
        return replace(spec, sortkey=a.names(), interleaved=False, column_sortkeys=())
    if a.accept("ALTER", "ENCODE", "AUTO"):
        return spec
    if a.accept("ALTER", "COLUMN") or a.accept("ALTER"):
        return _alter_column(spec, a, in_transaction, problem)
    if a.accept("ADD", "COLUMN") or (a.peek(1) not in _CONSTRAINT_WORDS and a.accept("ADD")):
        added = _column_def(a.tokens[a.at :])
        if added.distkey or added.sortkey or added.key or added.spec.identity:
            problem(f"ADD COLUMN {added.spec.name} as a DISTKEY, SORTKEY, key or IDENTITY")
        return replace(spec, columns=(*spec.columns, added.spec))
    if a.accept("DROP", "COLUMN") or (a.peek(1) != "CONSTRAINT" and a.accept("DROP")):
        dropped = a.name()
        return replace(spec, columns=tuple(c for c in spec.columns if c.name != dropped))
    if a.accept("RENAME", "TO"):
        return replace(spec, name=a.name())
    if a.accept("RENAME", "COLUMN") or a.accept("RENAME"):
        old = a.name()
        a.accept("TO")
        new = a.name()
        renamed = tuple(replace(c, name=new) if c.name == old else c for c in spec.columns)

        def rename(names: Iterable[str]) -> tuple[str, ...]:
            return tuple(new if n == old else n for n in names)

        return replace(spec, columns=renamed, distkeys=rename(spec.distkeys),
                       sortkey=rename(spec.sortkey), keys=frozenset(rename(spec.keys)))  # fmt: skip
    return spec  # OWNER TO, ADD CONSTRAINT, APPEND, …: nothing the rules look at


def _alter_column(
    spec: TableSpec, a: _Tokens, in_transaction: bool, problem: Callable[[str], None]
) -> TableSpec:
    name = a.name()
    column = spec.column(name)
    if column is None:
        problem(f"ALTER COLUMN {name}: no such column")
        return spec
    if a.accept("ENCODE"):
        encode = a.next().text.lower()
        if encode == column.encode:
            problem(f"ALTER COLUMN {name} ENCODE {encode}: the encoding it already has")
        if spec.interleaved:
            problem(f"ALTER COLUMN {name} ENCODE on a table with an interleaved sort key")
        changed = replace(column, encode=encode)
    elif a.accept("TYPE") or a.accept("SET", "DATA", "TYPE"):
        new_type, length, known = parse_type(" ".join(t.text for t in a.tokens[a.at :]))
        if column.type != "VARCHAR" or new_type != "VARCHAR":
            problem(f"ALTER COLUMN {name} TYPE {new_type}: only a VARCHAR's size can change")
        if in_transaction:
            problem(f"ALTER COLUMN {name} TYPE inside a transaction block")
        if column.encode in ("bytedict", "runlength", "text255", "text32k"):
            problem(f"ALTER COLUMN {name} TYPE on a {column.encode.upper()} column")
        if name in spec.keys:
            problem(f"ALTER COLUMN {name} TYPE on a PRIMARY KEY, UNIQUE or FOREIGN KEY column")
        changed = replace(column, type=new_type, length=length, known_type=known)
    else:
        return spec
    return replace(spec, columns=tuple(changed if c.name == name else c for c in spec.columns))


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
