"""Each rule of `sparkify_dw.redshift_rules` fires on a hand-made object Redshift would refuse,
and stays quiet on what its AWS page allows: a rule that cannot fail checks nothing.

The values (65535, 100000, the encodings' types, the TIMEFORMAT keywords) are written here as
the pages state them, not read from the module, so a wrong table in the module fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy_redshift.commands import Compression, CopyCommand, Format

from sparkify_dw.redshift_rules import (
    ENCODINGS,
    RULES,
    RedshiftRuleError,
    Violation,
    check_copy,
    check_ddl,
    check_table,
    copy_text,
    dateformat_problem,
    parse_copy,
    require_none,
    timeformat_problem,
)

ROLE = "arn:aws:iam::123456789012:role/myRedshiftRole"

# The compression encodings table (c_Compression_encodings.html), as the page has it.
ALL_TYPES = ("SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "REAL", "DOUBLE PRECISION", "BOOLEAN",
             "CHAR", "VARCHAR", "DATE", "TIMESTAMP", "TIMESTAMPTZ")  # fmt: skip
SUPPORTED = {
    "raw": set(ALL_TYPES),
    "az64": {"SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "DATE", "TIMESTAMP", "TIMESTAMPTZ"},
    "bytedict": set(ALL_TYPES) - {"BOOLEAN"},
    "delta": {"SMALLINT", "INTEGER", "BIGINT", "DATE", "TIMESTAMP", "DECIMAL"},
    "delta32k": {"INTEGER", "BIGINT", "DATE", "TIMESTAMP", "DECIMAL"},
    "lzo": {"SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "CHAR", "VARCHAR", "DATE", "TIMESTAMP",
            "TIMESTAMPTZ"},
    "mostly8": {"SMALLINT", "INTEGER", "BIGINT", "DECIMAL"},
    "mostly16": {"INTEGER", "BIGINT", "DECIMAL"},
    "mostly32": {"BIGINT", "DECIMAL"},
    "runlength": set(ALL_TYPES),
    "text255": {"VARCHAR"},
    "text32k": {"VARCHAR"},
    "zstd": set(ALL_TYPES),
}  # fmt: skip
DDL_TYPE = {"DECIMAL": "DECIMAL(12,2)", "CHAR": "CHAR(8)", "VARCHAR": "VARCHAR(64)"}


def _names(violations: list[Violation]) -> list[str]:
    return [v.rule.name for v in violations]


def _table(*columns: sa.Column[Any], **options: Any) -> sa.Table:
    return sa.Table("t", sa.MetaData(), *columns, **options)


def _copy(**options: Any) -> CopyCommand:
    table = _table(sa.Column("a", sa.Integer), sa.Column("at", sa.DateTime))
    options.setdefault("format", Format.json)
    return CopyCommand(table, "s3://bucket/data", iam_role_arns=ROLE, **options)


# --- Encodings ---------------------------------------------------------------------------------


def test_the_encodings_table_is_the_pages() -> None:
    assert set(ENCODINGS) == set(SUPPORTED)


@pytest.mark.parametrize("encoding", sorted(SUPPORTED))
@pytest.mark.parametrize("type_", ALL_TYPES)
def test_an_encoding_is_allowed_exactly_on_the_types_its_page_lists(
    encoding: str, type_: str
) -> None:
    ddl = f"CREATE TABLE t (c {DDL_TYPE.get(type_, type_)} ENCODE {encoding})"
    found = check_ddl(ddl)
    if type_ in SUPPORTED[encoding]:
        assert found == []
    else:
        assert _names(found) == ["encode-type"], found
        assert ENCODINGS[encoding].url in str(found[0])  # the encoding's own page


def test_az64_on_a_double_precision_column_is_refused() -> None:
    """The issue's first example, on a model as the project declares one."""
    table = _table(sa.Column("duration", sa.Double, redshift_encode="az64"))
    [violation] = check_table(table)
    assert violation.rule.name == "encode-type"
    assert violation.subject == "t.duration"
    assert "az64-encoding.html" in str(violation)


def test_an_encoding_redshift_does_not_have_is_refused() -> None:
    assert _names(check_table(_table(sa.Column("c", sa.Integer, redshift_encode="az46")))) == [
        "encode-type"
    ]


def test_sqlalchemy_types_map_to_the_redshift_types_they_compile_to() -> None:
    """A model's types are read as sqlalchemy-redshift writes them in the DDL."""
    table = _table(
        sa.Column("a", sa.SmallInteger, redshift_encode="az64"),
        sa.Column("b", sa.Numeric(10, 2), redshift_encode="az64"),
        sa.Column("c", sa.DateTime(timezone=True), redshift_encode="az64"),
        sa.Column("d", sa.Date, redshift_encode="az64"),
        sa.Column("e", sa.REAL, redshift_encode="runlength"),
        sa.Column("f", sa.Boolean, redshift_encode="zstd"),
        sa.Column("g", sa.Text, redshift_encode="text255"),
        sa.Column("h", sa.CHAR(2), redshift_encode="bytedict"),
    )
    assert check_table(table) == []
    wrong = _table(sa.Column("b", sa.Boolean, redshift_encode="az64"))
    assert _names(check_table(wrong)) == ["encode-type"]


# --- Types, lengths, IDENTITY -------------------------------------------------------------------


@pytest.mark.parametrize("type_", [sa.JSON(), sa.Uuid(), sa.LargeBinary(), sa.ARRAY(sa.Integer)])
def test_a_type_redshift_does_not_have_is_refused(type_: sa.types.TypeEngine[Any]) -> None:
    assert _names(check_table(_table(sa.Column("c", type_)))) == ["data-type"]


@pytest.mark.parametrize(
    ("type_", "refused"),
    [
        (sa.String(65535), False),
        (sa.String(65536), True),
        (sa.String(70000), True),
        (sa.String(), False),  # VARCHAR: 256 bytes
        (sa.CHAR(4096), False),
        (sa.CHAR(4097), True),
    ],
)
def test_varchar_holds_at_most_65535_bytes_and_char_4096(
    type_: sa.types.TypeEngine[Any], refused: bool
) -> None:
    assert _names(check_table(_table(sa.Column("c", type_)))) == (
        ["varchar-bytes"] if refused else []
    )


def test_varchar_max_and_a_zero_length() -> None:
    assert check_ddl("CREATE TABLE t (a VARCHAR(MAX), b CHARACTER VARYING(10))") == []
    assert _names(check_ddl("CREATE TABLE t (a VARCHAR(0))")) == ["varchar-bytes"]


@pytest.mark.parametrize(
    ("type_", "refused"),
    [(sa.Integer, False), (sa.BigInteger, False), (sa.SmallInteger, True), (sa.String(8), True),
     (sa.Numeric(10, 0), True)],
)  # fmt: skip
def test_identity_only_on_int_or_bigint(type_: Any, refused: bool) -> None:
    table = _table(sa.Column("id", type_, redshift_identity=(0, 1)))
    assert _names(check_table(table)) == (["identity-type"] if refused else [])
    ddl = f"CREATE TABLE t (id {sa.types.to_instance(type_).compile()} IDENTITY(0,1))"
    assert _names(check_ddl(ddl)) == (["identity-type"] if refused else [])


# --- Distribution, sort key, limits ------------------------------------------------------------


def _keyed(**options: Any) -> sa.Table:
    return _table(sa.Column("a", sa.Integer), sa.Column("b", sa.Integer), **options)


@pytest.mark.parametrize(
    "options",
    [
        {"redshift_diststyle": "KEY"},  # KEY without a DISTKEY
        {"redshift_diststyle": "KEY", "redshift_distkey": "c"},  # no such column
        {"redshift_distkey": "c"},
        {"redshift_diststyle": "ALL", "redshift_distkey": "a"},  # a DISTKEY needs KEY
        {"redshift_diststyle": "EVEN", "redshift_distkey": "a"},
        {"redshift_diststyle": "RANDOM"},
    ],
)
def test_distkey_and_diststyle_must_fit(options: dict[str, str]) -> None:
    assert set(_names(check_table(_keyed(**options)))) == {"distribution"}


def test_one_distkey_only() -> None:
    table = _table(
        sa.Column("a", sa.Integer, redshift_distkey=True), sa.Column("b", sa.Integer),
        redshift_distkey="b",
    )  # fmt: skip
    assert _names(check_table(table)) == ["distribution"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"redshift_diststyle": "KEY", "redshift_distkey": "a"},
        {"redshift_distkey": "a"},  # DISTSTYLE not set: KEY is implied
        {"redshift_diststyle": "ALL", "redshift_sortkey": ("b", "a")},
        {"redshift_interleaved_sortkey": ("a", "b")},
    ],
)
def test_a_distribution_and_sort_key_that_fit_pass(options: dict[str, Any]) -> None:
    assert check_table(_keyed(**options)) == []


@pytest.mark.parametrize(
    "options",
    [
        {"redshift_sortkey": "c"},
        {"redshift_sortkey": ("a", "a")},
        {"redshift_interleaved_sortkey": ("a", "c")},
    ],
)
def test_sortkey_columns_exist_once(options: dict[str, Any]) -> None:
    assert set(_names(check_table(_keyed(**options)))) == {"sort-key"}


def test_sortkey_sizes() -> None:
    columns = ", ".join(f"c{i} INTEGER" for i in range(401))
    compound = ", ".join(f"c{i}" for i in range(400))
    assert check_ddl(f"CREATE TABLE t ({columns}) COMPOUND SORTKEY ({compound})") == []
    assert _names(check_ddl(f"CREATE TABLE t ({columns}) SORTKEY ({compound}, c400)")) == [
        "sort-key"
    ]
    eight = ", ".join(f"c{i}" for i in range(8))
    assert check_ddl(f"CREATE TABLE t ({columns}) INTERLEAVED SORTKEY ({eight})") == []
    assert _names(check_ddl(f"CREATE TABLE t ({columns}) INTERLEAVED SORTKEY ({eight}, c8)")) == [
        "sort-key"
    ]
    assert _names(check_ddl("CREATE TABLE t (a INT SORTKEY, b INT SORTKEY)")) == ["sort-key"]


def test_table_limits() -> None:
    wide = ", ".join(f"c{i} INTEGER" for i in range(1601))
    assert _names(check_ddl(f"CREATE TABLE t ({wide})")) == ["table-limits"]
    assert _names(check_ddl("CREATE TABLE t (a INTEGER, a BIGINT)")) == ["table-limits"]
    assert _names(check_table(_table(sa.Column("é" * 64, sa.Integer)))) == ["table-limits"]


# --- DDL scripts and ALTER TABLE ----------------------------------------------------------------

SONGS = """
CREATE TABLE songs (
    song_id VARCHAR(32) NOT NULL,
    title VARCHAR(512) ENCODE zstd,
    genre VARCHAR(32) ENCODE bytedict,
    duration DOUBLE PRECISION ENCODE raw,
    CONSTRAINT pk_songs PRIMARY KEY (song_id)
) DISTSTYLE ALL SORTKEY (song_id);
"""


@pytest.mark.parametrize(
    ("alter", "rules"),
    [
        ("ALTER TABLE songs ALTER COLUMN title TYPE VARCHAR(1024)", []),
        ("ALTER TABLE songs ALTER COLUMN title TYPE VARCHAR(70000)", ["varchar-bytes"]),
        ("ALTER TABLE songs ALTER COLUMN duration ENCODE az64", ["encode-type"]),
        ("ALTER TABLE songs ALTER COLUMN duration ENCODE zstd, ALTER COLUMN title ENCODE lzo", []),
        ("ALTER TABLE songs ALTER DISTSTYLE KEY DISTKEY song_id", []),
        ("ALTER TABLE songs ALTER DISTKEY song_ident", ["distribution"]),
        ("ALTER TABLE songs ALTER COMPOUND SORTKEY (title, song_id)", []),
        ("ALTER TABLE songs ALTER SORTKEY (titel)", ["sort-key"]),
        ("ALTER TABLE songs ADD COLUMN year SMALLINT ENCODE az64", []),
        ("ALTER TABLE songs ADD COLUMN score DOUBLE PRECISION ENCODE delta", ["encode-type"]),
        ("ALTER TABLE songs RENAME COLUMN song_id TO id", []),
        ("ALTER TABLE songs ALTER COLUMN duration TYPE VARCHAR(10)", ["alter-table"]),
        ("ALTER TABLE songs ALTER COLUMN genre TYPE VARCHAR(64)", ["alter-table"]),
        ("ALTER TABLE songs ALTER COLUMN song_id TYPE VARCHAR(64)", ["alter-table"]),
        ("ALTER TABLE songs ALTER COLUMN title ENCODE zstd", ["alter-table"]),
        ("ALTER TABLE songs ALTER COLUMN lyrics ENCODE zstd", ["alter-table"]),
        ("ALTER TABLE songs ADD COLUMN n BIGINT IDENTITY(1,1)", ["alter-table"]),
        ("ALTER TABLE songs ADD COLUMN k INTEGER DISTKEY", ["alter-table"]),
    ],
)
def test_alter_table_is_checked_against_the_table_the_script_made(
    alter: str, rules: list[str]
) -> None:
    assert _names(check_ddl(SONGS + alter + ";")) == rules


def test_alter_column_type_inside_a_transaction_block_is_refused() -> None:
    alter = "ALTER TABLE songs ALTER COLUMN title TYPE VARCHAR(1024);"
    assert _names(check_ddl(f"BEGIN; {SONGS} {alter} COMMIT;")) == ["alter-table"]
    assert check_ddl(f"BEGIN; {SONGS} COMMIT; {alter}") == []


def test_alters_on_an_interleaved_sort_key() -> None:
    ddl = "CREATE TABLE t (a INTEGER ENCODE az64, b INTEGER) INTERLEAVED SORTKEY (a, b);"
    for alter in ("ALTER DISTKEY a", "ALTER DISTSTYLE EVEN", "ALTER COLUMN a ENCODE zstd"):
        assert _names(check_ddl(f"{ddl} ALTER TABLE t {alter};")) == ["alter-table"], alter
    assert check_ddl(f"{ddl} ALTER TABLE t ALTER SORTKEY (a); ALTER TABLE t ALTER DISTKEY a;") == []


def test_a_dropped_table_is_forgotten_and_a_recreated_one_checked_anew() -> None:
    script = SONGS + "DROP TABLE songs; CREATE TABLE songs (x DOUBLE PRECISION ENCODE az64);"
    assert _names(check_ddl(script)) == ["encode-type"]
    assert check_ddl("ALTER TABLE elsewhere ALTER COLUMN x ENCODE az64;") == []  # unknown table


def test_quoted_and_qualified_names_and_comments() -> None:
    ddl = """-- a comment; with a semicolon
    CREATE TABLE IF NOT EXISTS public."Time" ("start" TIMESTAMP WITHOUT TIME ZONE NOT NULL,
        "hour" SMALLINT ENCODE az64) DISTSTYLE KEY DISTKEY ("start") SORTKEY ("start");
    ALTER TABLE public."Time" ALTER COLUMN "hour" ENCODE delta32k;"""
    [violation] = check_ddl(ddl)
    assert (violation.rule.name, violation.subject) == ("encode-type", "Time.hour")


# --- COPY ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"delimiter": "|"}, "DELIMITER"),
        ({"fixed_width": [("a", 5)]}, "FIXEDWIDTH"),
        ({"escape": True}, "ESCAPE"),
        ({"fill_record": True}, "FILLRECORD"),
        ({"ignore_blank_lines": True}, "IGNOREBLANKLINES"),
        ({"remove_quotes": True}, "REMOVEQUOTES"),
        ({"dangerous_null_delimiter": "\\N"}, "NULL AS"),
    ],
)
def test_options_json_does_not_take(options: dict[str, Any], word: str) -> None:
    [violation] = check_copy(_copy(**options))
    assert violation.rule.name == "copy-json"
    assert word in violation.message
    assert check_copy(_copy(format=None, **options)) == []  # the same option with text input


def test_csv_with_json_and_a_json_option_it_does_not_know() -> None:
    both = "COPY t FROM 's3://b/x' IAM_ROLE 'r' FORMAT AS JSON 'auto' CSV"
    assert _names(check_copy(both)) == ["copy-json"]
    assert _names(check_copy(_copy(path_file="auto-ignorecase"))) == ["copy-json"]
    for good in ("auto", "auto ignorecase", "noshred", "s3://bucket/paths.json"):
        assert check_copy(_copy(path_file=good)) == [], good


def test_ignoreheader_is_allowed_with_json() -> None:
    """The page: 'If IGNOREHEADER is specified, COPY ignores the specified number of lines in
    the JSON data', so it is not on the list of options JSON refuses."""
    assert check_copy(_copy(ignore_header=1)) == []


@pytest.mark.parametrize(("max_error", "refused"), [(0, False), (100_000, False), (100_001, True),
                                                    (200_000, True)])  # fmt: skip
def test_maxerror_is_at_most_100000(max_error: int, refused: bool) -> None:
    assert _names(check_copy(_copy(max_error=max_error))) == (["copy-maxerror"] if refused else [])


@pytest.mark.parametrize(
    "timeformat",
    ["auto", "epochsecs", "epochmillisecs", "YYYY-MM-DD HH:MI:SS", "MM.DD.YYYY HH:MI:SS",
     "YYYY-MM-DD HH24:MI:SS", "DD/MM/YY HH12:MI:SS AM", "MON DD, YYYY HH:MI"],
)  # fmt: skip
def test_timeformats_redshift_takes(timeformat: str) -> None:
    assert timeformat_problem(timeformat) is None
    assert check_copy(_copy(time_format=timeformat)) == []


@pytest.mark.parametrize(
    "timeformat",
    ["epochmilisecs", "EPOCHMILLISECS", "Auto", "epoch", "YYYY-MM-DD HH:MI:SSOF",
     "yyyy-mm-dd", "YYYY-MM-DD HH:MI:SS TZ", "", "--"],
)  # fmt: skip
def test_timeformats_redshift_refuses(timeformat: str) -> None:
    assert timeformat_problem(timeformat) is not None
    assert _names(check_copy(_copy(time_format=timeformat))) == ["copy-timeformat"]


def test_dateformat() -> None:
    assert dateformat_problem("auto") is None
    assert dateformat_problem("MON-DD-YYYY") is None
    assert dateformat_problem("epochsecs") is not None  # a TIMEFORMAT keyword only
    assert check_copy(_copy(date_format="DD.MM.YYYY")) == []
    assert _names(check_copy(_copy(date_format="dd.mm.yyyy"))) == ["copy-timeformat"]
    assert _names(check_copy(_copy(date_format="DD.MM.YYYYY"))) == ["copy-timeformat"]


def test_a_word_that_is_no_copy_parameter() -> None:
    text = copy_text(_copy(truncate_columns=True)).replace("TRUNCATECOLUMNS", "TRUNCATECOLUMN")
    assert _names(check_copy(text)) == ["copy-parameters"]


def test_the_command_and_its_text_read_the_same() -> None:
    command = _copy(path_file="s3://b/paths.json", max_error=10, time_format="epochmillisecs",
                    compression=Compression.gzip, region="us-west-2", truncate_columns=True,
                    blanks_as_null=True, empty_as_null=True, manifest=True, comp_update=False,
                    stat_update=True, accept_inv_chars="^")  # fmt: skip
    spec = parse_copy(copy_text(command))
    assert spec.table == "t"
    assert spec.source == "s3://bucket/data"
    assert spec.data_format == "JSON"
    assert spec.parameters == {
        "CREDENTIALS": f"aws_iam_role={ROLE}", "JSON": "s3://b/paths.json", "GZIP": None,
        "MANIFEST": None, "ACCEPTINVCHARS": "^", "BLANKSASNULL": None, "EMPTYASNULL": None,
        "TIMEFORMAT": "epochmillisecs", "TRUNCATECOLUMNS": None, "COMPUPDATE": "OFF",
        "MAXERROR": "10", "STATUPDATE": "ON", "REGION": "us-west-2",
    }  # fmt: skip
    assert spec.unknown == ()
    assert check_copy(command) == check_copy(copy_text(command)) == []


# --- Every rule can fail -------------------------------------------------------------------------

BREAKS: dict[str, Callable[[], list[Violation]]] = {
    "data-type": lambda: check_ddl("CREATE TABLE t (c JSONB)"),
    "encode-type": lambda: check_ddl("CREATE TABLE t (c DOUBLE PRECISION ENCODE az64)"),
    "varchar-bytes": lambda: check_ddl("CREATE TABLE t (c VARCHAR(70000))"),
    "identity-type": lambda: check_ddl("CREATE TABLE t (c VARCHAR(8) IDENTITY(0,1))"),
    "distribution": lambda: check_ddl("CREATE TABLE t (c INT) DISTSTYLE KEY DISTKEY (d)"),
    "sort-key": lambda: check_ddl("CREATE TABLE t (c INT) SORTKEY (d)"),
    "table-limits": lambda: check_ddl("CREATE TABLE t (c INT, c INT)"),
    "alter-table": lambda: check_ddl("CREATE TABLE t (c INT); ALTER TABLE t ALTER c TYPE BIGINT"),
    "copy-parameters": lambda: check_copy("COPY t FROM 's3://b/k' IAM_ROLE 'r' JSON 'auto' NOPE"),
    "copy-json": lambda: check_copy("COPY t FROM 's3://b/k' IAM_ROLE 'r' JSON 'auto' DELIMITER"),
    "copy-maxerror": lambda: check_copy("COPY t FROM 's3://b/k' IAM_ROLE 'r' MAXERROR 200000"),
    "copy-timeformat": lambda: check_copy(
        "COPY t FROM 's3://b/k' IAM_ROLE 'r' TIMEFORMAT 'epochmilisecs'"
    ),
}  # fmt: skip


def test_every_rule_has_a_breaking_example() -> None:
    assert set(BREAKS) == set(RULES)


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_each_rule_fails_on_its_breaking_example(rule: str) -> None:
    found = BREAKS[rule]()
    assert _names(found) == [rule], found
    assert (found[0].url or RULES[rule].url) in str(found[0])  # its page (an encoding's own)


def test_require_none_lists_every_violation_with_its_page() -> None:
    require_none([])
    found = BREAKS["encode-type"]() + BREAKS["copy-maxerror"]()
    with pytest.raises(RedshiftRuleError) as raised:
        require_none(found)
    message = str(raised.value)
    assert "2 thing(s) Redshift would refuse" in message
    assert "az64-encoding.html" in message
    assert "copy-parameters-data-load.html#copy-maxerror" in message
