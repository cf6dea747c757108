"""A malformed database URL on the command line (--db, $SPARKIFY_DB_URL): one `error:` line,
exit code 1, and never the password (issue 15). The library side: tests/unit/test_urls.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers import Run

SECRET = "Sup3rS3cret"

CASES = [
    ("postgresql+psycopg://u:Sup3rS3cret@host:abc/db", "port after the host must be a number"),
    ("postgresql+psycopg://u:Sup3rS3cret@[::1/db", "IPv6 host needs its closing bracket"),
    ("postgresql+psycopg://user:Sup3rS3cret/db", "no @ before the host"),
    ("postgresql+psycopg://user:Sup3r@S3cret@host/db", "escape @ in the password as %40"),
    ("postgresql+psycopg://u:Sup3rS3cret@host:70000/db", "not between 1 and 65535"),
    ("duckdb://relative.duckdb", "duckdb:///relative.duckdb"),
    ("duckdb:///", "names no DuckDB file"),
    ("redshift+redshift_connector://u:Sup3rS3cret@/dev", "needs the cluster's endpoint"),
    ("nosuch://u:Sup3rS3cret@host/db", "Unsupported database 'nosuch'"),
    ("u:Sup3rS3cret@host/db", "must begin with a scheme"),
    ("postgresql+psycopg://u:Sup3rS3cret@host/db\n", "a line break at its start or end"),
]


def _assert_one_line(run: Run, says: str) -> None:
    run.error_line(says)
    run.assert_never_shows(SECRET, "S3cret")


@pytest.mark.parametrize(("url", "says"), CASES)
@pytest.mark.parametrize("command", ["run", "check", "report", "query top-songs"])
def test_a_malformed_db_flag_is_one_line_without_the_password(
    cli: Callable[..., Run], command: str, url: str, says: str
) -> None:
    _assert_one_line(cli(*command.split(), "--db", url), says)


@pytest.mark.parametrize(("url", "says"), CASES)
def test_a_malformed_sparkify_db_url_is_one_line_naming_the_variable(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("SPARKIFY_DB_URL", url)
    run = cli("check")
    _assert_one_line(run, says)
    if url.startswith(("postgresql", "u:")):  # malformed: found by parsing, in Settings
        assert "(from $SPARKIFY_DB_URL)" in run.error_line()


def test_an_empty_db_flag_is_one_line(cli: Callable[..., Run]) -> None:
    cli("check", "--db", "").error_line("The database URL is empty")
