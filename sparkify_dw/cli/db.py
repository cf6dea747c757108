"""`sparkify-dw db upgrade|downgrade|current|history`: the schema, from an installed package.

Alembic's command API on the migrations the package carries, with the database chosen as for
`run` (--db, $SPARKIFY_DB_URL, --config's [CLUSTER], the default DuckDB file). `alembic
upgrade head` from a checkout and `alembic -c "$(sparkify-dw db alembic-ini)"` do the same.
Mounted on the main command by `register(app)`; mistakes are one line (sparkify_dw.cli.app.main).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sparkify_dw.cli.consoles import out
from sparkify_dw.cli.options import DbOption, WarehouseConfigOption

if TYPE_CHECKING:
    from sparkify_dw.migrate import Migrated

db_app = typer.Typer(
    help="The warehouse's schema: Alembic migrations, from the installed package.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add `sparkify-dw db …` to the `sparkify-dw` app (once, however often called)."""
    if not any(group.name == "db" for group in app.registered_groups):
        app.add_typer(db_app, name="db")


def _db_url(db: str | None, config: Path | None) -> str:
    from sparkify_dw.config import Settings

    return Settings.resolve(config_file=config, db_url=db).db_url


@db_app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="The revision to reach.")] = "head",
    db: DbOption = None,
    config: WarehouseConfigOption = None,
    sql: Annotated[
        bool,
        typer.Option("--sql", help="Print the DDL instead of running it (nothing is connected)."),
    ] = False,
) -> None:
    """Migrate the database up to REVISION (default: the newest), in one transaction."""
    from sparkify_dw import migrate

    url = _db_url(db, config)
    if sql:
        print(migrate.upgrade_sql(url, revision), end="")  # plain: rich would wrap the DDL
        return
    done = migrate.upgrade_database(url, revision)
    _say(done, "upgraded")


@db_app.command()
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="The revision to go back to (`base` drops every table).")
    ],
    db: DbOption = None,
    config: WarehouseConfigOption = None,
) -> None:
    """Migrate the database down to REVISION; the tables of later revisions and their rows go."""
    from sparkify_dw import migrate

    done = migrate.downgrade_database(_db_url(db, config), revision)
    _say(done, "downgraded")


@db_app.command()
def current(db: DbOption = None, config: WarehouseConfigOption = None) -> None:
    """Print the revision the database is at, and whether it is the newest."""
    from sparkify_dw import migrate

    url = _db_url(db, config)
    revision = migrate.database_revision(url)
    head = migrate.head_revision()
    if revision is None:
        out.print(f"base (no schema yet; the newest is {head}: run `sparkify-dw db upgrade`)")
    elif revision == head:
        out.print(f"{revision} (head)")
    else:
        out.print(f"{revision} (the newest is {head}: run `sparkify-dw db upgrade`)")


@db_app.command()
def history() -> None:
    """List the migrations, newest first, as `alembic history` does."""
    from sparkify_dw import migrate

    for revision in reversed(migrate.history()):
        head = " (head)" if revision.is_head else ""
        down = revision.down_revision or "<base>"
        out.print(f"{down} -> {revision.revision}{head}, {revision.message}")


@db_app.command("alembic-ini")
def alembic_ini() -> None:
    """Print the path of the packaged alembic.ini: `alembic -c "$(sparkify-dw db alembic-ini)"`."""
    from sparkify_dw import migrate

    print(migrate.alembic_ini())


def _say(done: Migrated, verb: str) -> None:
    before = done.before or "base"
    after = done.after or "base"
    if done.changed:
        out.print(f"{verb.capitalize()} {done.database} from {before} to {after}")
    else:
        out.print(f"{done.database} is already at {after}: nothing to do")
