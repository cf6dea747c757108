"""The project's own Redshift objects break no documented rule: the models' metadata, the
migrations (as the Table objects `op.create_table` builds and as the DDL text Redshift
receives), the COPYs the library sends, and the ALTERs docs/redshift.md tells users to write.

`scripts/redshift_mutants.py` shows these tests catch what Redshift refuses: it breaks a copy
of the project in known ways and expects a failure here for each.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from alembic.ddl.impl import DefaultImpl
from sqlalchemy import Table

from sparkify_dw.backends import backend_for
from sparkify_dw.config import Settings
from sparkify_dw.copy.options import MAX_MAXERROR, CopyOptions, check_max_error
from sparkify_dw.copy.redshift import copy_command
from sparkify_dw.errors import ConfigError
from sparkify_dw.migrate import offline_sql
from sparkify_dw.models import TABLES, Base, StagingEvent, StagingSong
from sparkify_dw.redshift_rules import (
    TIMEFORMAT_KEYWORDS,
    check_copy,
    check_ddl,
    check_metadata,
    check_sql,
    check_table,
    copy_text,
    ddl_tables,
    parse_copy,
    require_none,
    statements,
    table_spec,
)
from sparkify_dw.script import run_script

REPO = Path(__file__).resolve().parents[2]
REDSHIFT_URL = backend_for("redshift").placeholder_url
ROLE = "arn:aws:iam::123456789012:role/dwhRole"
S3 = {
    "song_data": "s3://udacity-dend/song_data",
    "log_data": "s3://udacity-dend/log_data",
    "log_jsonpath": "s3://udacity-dend/log_json_path.json",
}


@pytest.fixture(scope="module")
def migrations_sql() -> str:
    """`alembic upgrade head --sql` for Redshift: every migration's DDL, in order."""
    return offline_sql(REDSHIFT_URL)


# --- Models and migrations ---------------------------------------------------------------------


def test_the_models_break_no_rule() -> None:
    require_none(check_metadata(Base.metadata))
    assert len(Base.metadata.tables) == 12


def test_the_migrations_ddl_breaks_no_rule(migrations_sql: str) -> None:
    """Each CREATE TABLE as Redshift receives it, and each table after every later statement."""
    require_none(check_ddl(migrations_sql))
    assert set(ddl_tables(migrations_sql)) == {*Base.metadata.tables, "alembic_version"}


def test_the_tables_the_migrations_build_break_no_rule() -> None:
    """The Table objects each migration's `op.create_table` hands Alembic (offline, so the
    same objects the Redshift DDL is compiled from)."""
    built: list[Table] = []
    create_table = DefaultImpl.create_table

    def record(impl: DefaultImpl, table: Table, **kw: Any) -> None:
        built.append(table)
        create_table(impl, table, **kw)

    with mock.patch.object(DefaultImpl, "create_table", autospec=True, side_effect=record):
        offline_sql(REDSHIFT_URL)
    names = [t.name for t in built if t.name != "alembic_version"]
    assert sorted(names) == sorted([*Base.metadata.tables, "staging_events", "staging_songs"])
    for table in built:
        require_none(check_table(table))


def test_the_models_and_the_migrations_end_in_the_same_physical_design(
    migrations_sql: str,
) -> None:
    """Autogenerate does not compare DISTSTYLE, DISTKEY, SORTKEY, ENCODE or IDENTITY; this
    does. A hand-written migration that changes one without the model fails here, as does a
    model changed without its migration (docs/redshift.md, "Model and database must agree")."""
    migrated = ddl_tables(migrations_sql)
    for table in Base.metadata.sorted_tables:
        assert table_spec(table) == migrated[table.name], table.name


def test_the_alters_docs_redshift_md_recommends_break_no_rule(migrations_sql: str) -> None:
    """Every `ALTER TABLE` the physical-design page shows, on the schema the migrations make."""
    page = (REPO / "docs" / "redshift.md").read_text(encoding="utf-8")
    page = page[page.index("## How to change it") : page.index("## What Redshift accepts")]
    alters = re.findall(r'op\.execute\("(ALTER TABLE [^"]+)"\)', page)
    alters += re.findall(r"`(ALTER TABLE [^`]+)`", page)
    assert len(alters) >= 7, alters
    for alter in alters:
        require_none(check_ddl(f"{migrations_sql}\n{alter};"))
    upgrade = "".join(f"{a};\n" for a in alters[:2])
    songplays = ddl_tables(migrations_sql + upgrade)["songplays"]
    assert (songplays.distkeys, songplays.sortkey) == (("user_id",), ("start_time", "user_id"))


# --- The COPYs ---------------------------------------------------------------------------------

SETTINGS = {
    "defaults": Settings(db_url=REDSHIFT_URL),  # the bundled sample, shown for an example bucket
    "s3-every-option": Settings(
        db_url=REDSHIFT_URL, iam_role_arn=ROLE, region="us-west-2", max_error=MAX_MAXERROR,
        compression="gzip", manifest=True, **S3,
    ),
    "bzip2": Settings(db_url=REDSHIFT_URL, iam_role_arn=ROLE, compression="bzip2", **S3),
}  # fmt: skip


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
def test_the_sql_script_breaks_no_rule(settings: Settings) -> None:
    """`sparkify-dw sql --dialect redshift`: the migrations, then the load with both COPYs."""
    script = run_script("redshift", settings)
    require_none(check_sql(script))
    copies = [s for s in statements(script) if s[0].upper == "COPY"]
    assert [s[1].text for s in copies] == ["staging_songs", "staging_events"]


@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
@pytest.mark.parametrize("ignore_case", [False, True])
def test_the_copy_commands_break_no_rule(settings: Settings, ignore_case: bool) -> None:
    """The CopyCommand objects the library builds for the songs and the events, as the
    script and the loader build them (`Settings.stage_options().copy_options()`)."""
    songs, events = settings.stage_options().copy_options()
    for table, location, options in (
        (StagingSong.__table__, S3["song_data"], songs),
        (StagingEvent.__table__, S3["log_data"], replace(events, jsonpaths=S3["log_jsonpath"])),
    ):
        options = replace(options, iam_role_arn=ROLE, ignore_case=ignore_case)
        command = copy_command(table, location, options)  # type: ignore[arg-type]
        require_none(check_copy(command))
        assert parse_copy(copy_text(command)).data_format == "JSON"


def test_the_largest_maxerror_the_library_takes_is_one_redshift_takes() -> None:
    options = CopyOptions(iam_role_arn=ROLE, max_error=MAX_MAXERROR)
    require_none(check_copy(copy_command(TABLES.staging_songs, S3["song_data"], options)))
    with pytest.raises(ConfigError, match="MAXERROR"):
        check_max_error(100_001)  # the page's limit is 100000


@pytest.mark.parametrize("timeformat", TIMEFORMAT_KEYWORDS)
def test_every_timeformat_keyword_reaches_the_copy_as_redshift_spells_it(timeformat: str) -> None:
    options = CopyOptions(iam_role_arn=ROLE, timeformat=timeformat)
    command = copy_command(TABLES.staging_events, S3["log_data"], options)
    require_none(check_copy(command))
    assert parse_copy(copy_text(command)).parameters["TIMEFORMAT"] == timeformat


@pytest.mark.parametrize(
    "timeformat", ["epochmilisecs", "EPOCHMILLISECS", "epoch", "YYYY-MM-DD TZ"]
)
def test_a_timeformat_redshift_refuses_is_refused_before_any_engine_runs_it(
    timeformat: str,
) -> None:
    """The emulation used to read an unknown keyword as 'auto' and any case of a known one;
    Redshift refuses both, so CopyOptions refuses them on every engine."""
    with pytest.raises(ConfigError, match="TIMEFORMAT"):
        CopyOptions(timeformat=timeformat)
