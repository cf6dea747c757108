"""The Redshift DDL carries the physical design; the other engines get plain, valid DDL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.models import Base

REDSHIFT = RedshiftDialect_redshift_connector()


def _ddl(table: str, dialect: sa.Dialect) -> str:
    return " ".join(str(CreateTable(Base.metadata.tables[table]).compile(dialect=dialect)).split())


@pytest.mark.parametrize(
    ("table", "design"),
    [
        ("songplays", "DISTSTYLE KEY DISTKEY (start_time) SORTKEY (start_time)"),
        ("time", "DISTSTYLE KEY DISTKEY (start_time) SORTKEY (start_time)"),
        ("users", "DISTSTYLE ALL SORTKEY (user_id)"),
        ("songs", "DISTSTYLE ALL SORTKEY (song_id)"),
        ("artists", "DISTSTYLE ALL SORTKEY (artist_id)"),
        ("staging_events", "DISTSTYLE EVEN"),
        ("staging_songs", "DISTSTYLE EVEN"),
    ],
)
def test_each_table_has_its_distribution_and_sort_key(table: str, design: str) -> None:
    assert _ddl(table, REDSHIFT).endswith(f") {design}")


def test_songplay_id_is_an_identity_and_columns_are_encoded() -> None:
    ddl = _ddl("songplays", REDSHIFT)
    assert "songplay_id BIGINT IDENTITY(0,1) ENCODE az64 NOT NULL" in ddl
    assert "user_agent VARCHAR(512) ENCODE zstd" in ddl
    # the sort key column stays RAW (not compressed), as AWS advises
    assert re.search(r"start_time TIMESTAMP WITHOUT TIME ZONE NOT NULL", ddl)


@pytest.mark.parametrize("table", sorted(Base.metadata.tables))
def test_other_engines_get_no_redshift_options(table: str) -> None:
    duckdb_dialect = sa.create_engine("duckdb://").dialect
    for dialect in (postgresql.dialect(), duckdb_dialect):
        ddl = _ddl(table, dialect)
        for word in ("DISTSTYLE", "DISTKEY", "SORTKEY", "ENCODE"):
            assert word not in ddl
