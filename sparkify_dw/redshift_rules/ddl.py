"""DDL scripts as Redshift receives them: a small reader of CREATE/DROP/ALTER TABLE,
applied in order and checked against the rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sparkify_dw.redshift_rules.rules import Violation, _violation
from sparkify_dw.redshift_rules.tables import ColumnSpec, TableSpec, _check_table, parse_type

if TYPE_CHECKING:
    pass

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
