"""Malformed database URLs: one ConfigError from `parse_url` and `make_engine`, never a
traceback, and never the password (issue 15); `redact_url` masks it even then."""

from __future__ import annotations

from pathlib import Path

import pytest

from sparkify_dw.db import make_engine
from sparkify_dw.errors import ConfigError
from sparkify_dw.urls import parse_url, redact_url

SECRET = "Sup3rS3cret"

# (URL, what the message says): each one raised a ValueError or parsed to the wrong thing.
MALFORMED = [
    ("postgresql+psycopg://u:Sup3rS3cret@host:abc/db", "port after the host must be a number"),
    ("postgresql+psycopg://u:Sup3rS3cret@host:/db", "port after the host must be a number"),
    ("postgresql+psycopg://u:Sup3rS3cret@[::1/db", "IPv6 host needs its closing bracket"),
    ("postgresql+psycopg://user:Sup3rS3cret/db", "no @ before the host"),
    ("postgresql+psycopg://user:Sup3r@S3cret@host/db", "escape @ in the password as %40"),
    ("postgresql+psycopg://u:Sup3rS3cret@host:99999/db", "port 99999 is not between 1 and 65535"),
    ("postgresql+psycopg://u:Sup3rS3cret@host:0/db", "port 0 is not between 1 and 65535"),
    ("u:Sup3rS3cret@host/db", "must begin with a scheme and ://"),
    ("postgresql+psycopg://u:Sup3rS3cret@host/db\n", "a line break at its start or end"),
    (" duckdb:///sparkify.duckdb", "a space or a line break at its start or end"),
    ("", "is empty"),
]


@pytest.mark.parametrize(("url", "says"), MALFORMED)
def test_a_malformed_url_is_one_config_error_without_the_password(url: str, says: str) -> None:
    for parse in (parse_url, make_engine):
        with pytest.raises(ConfigError) as raised:
            parse(url)
        message = str(raised.value)
        assert says in message
        assert "\n" not in message
        assert "S3cret" not in message
        assert "Sup3r" not in message
    assert "S3cret" not in redact_url(url)
    assert "Sup3r" not in redact_url(url)


def test_redact_url_names_only_the_scheme_of_an_unparseable_url() -> None:
    assert redact_url("postgresql+psycopg://user:Sup3rS3cret/db") == (
        "<unparseable postgresql+psycopg URL>"
    )
    assert redact_url("user:Sup3rS3cret@host/db") == "<unparseable URL>"


def test_redact_url_masks_a_password_holding_a_raw_at() -> None:
    url = "postgresql+psycopg://user:Sup3r@S3cret@host/db"
    assert redact_url(url) == "postgresql+psycopg://user:***@host/db"


def test_a_password_with_an_escaped_at_is_fine() -> None:
    url = parse_url("postgresql+psycopg://user:Sup3r%40S3cret@host:5432/db")
    assert (url.password, url.host, url.port) == ("Sup3r@S3cret", "host", 5432)


@pytest.mark.parametrize("url", ["duckdb://relative.duckdb", "duckdb://u:Sup3rS3cret@h/x.duckdb"])
def test_a_duckdb_url_with_two_slashes_explains_the_three(url: str) -> None:
    """duckdb://relative.duckdb names a host: it opened an in-memory database, and a load went
    nowhere."""
    with pytest.raises(ConfigError, match="three slashes") as raised:
        make_engine(url)
    assert "duckdb:///relative.duckdb" in str(raised.value)
    assert "duckdb:////abs/path.duckdb" in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("url", ["duckdb://", "duckdb:///"])
def test_a_duckdb_url_without_a_file_is_refused_not_taken_for_memory(url: str) -> None:
    with pytest.raises(ConfigError, match="names no DuckDB file"):
        make_engine(url)
    make_engine("duckdb:///:memory:").dispose()  # memory, when asked for


def test_a_duckdb_url_with_three_or_four_slashes_is_a_file(tmp_path: Path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")  # tmp_path is absolute: four
    assert engine.url.database == f"{tmp_path}/w.duckdb"
    engine.dispose()


@pytest.mark.parametrize("url", ["redshift://", "redshift+redshift_connector://u:Sup3rS3cret@/dev"])
def test_a_redshift_url_without_a_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="needs the cluster's endpoint as its host") as raised:
        make_engine(url)
    assert SECRET not in str(raised.value)


def test_a_redshift_iam_url_may_leave_the_host_to_the_driver() -> None:
    url = (
        "redshift+redshift_connector://awsuser@/dev?iam=true&cluster_identifier=c&region=eu-west-1"
    )
    make_engine(url).dispose()


def test_an_unknown_engine_or_driver_is_one_config_error() -> None:
    with pytest.raises(ConfigError, match="Unsupported database 'nosuch'") as raised:
        make_engine("nosuch://u:Sup3rS3cret@h/db")
    assert SECRET not in str(raised.value)
    with pytest.raises(ConfigError, match="No driver for postgresql\\+nodriver") as raised:
        make_engine("postgresql+nodriver://u:Sup3rS3cret@h/db")
    assert SECRET not in str(raised.value)
