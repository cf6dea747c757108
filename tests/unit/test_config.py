from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from sparkify_dw.config import SAMPLE_DIR, Settings
from sparkify_dw.errors import ConfigError

DWH_CFG = """\
[CLUSTER]
HOST='sparkify.abc123.us-west-2.redshift.amazonaws.com'
DB_NAME='dev'
DB_USER='awsuser'
DB_PASSWORD='S3cret!Passw0rd'
DB_PORT='5439'

[IAM_ROLE]
ARN='arn:aws:iam::123456789012:role/myRedshiftRole'

[S3]
LOG_DATA='s3://udacity-dend/log_data'
LOG_JSONPATH='s3://udacity-dend/log_json_path.json'
SONG_DATA='s3://udacity-dend/song_data'
"""


@pytest.fixture
def dwh_cfg(tmp_path: Path) -> Path:
    path = tmp_path / "dwh.cfg"
    path.write_text(DWH_CFG)
    return path


def test_defaults_are_the_duckdb_file_and_the_bundled_sample() -> None:
    settings = Settings.resolve(environ={})
    assert settings.db_url == "duckdb:///sparkify.duckdb"
    assert Path(settings.song_data) == SAMPLE_DIR / "song_data"
    assert Path(settings.log_jsonpath).is_file()
    assert settings.max_error == 0


def test_the_original_dwh_cfg_gives_a_redshift_url_and_s3_locations(dwh_cfg: Path) -> None:
    settings = Settings.resolve(config_file=dwh_cfg, environ={})
    assert settings.db_url.startswith("redshift+redshift_connector://awsuser:")
    assert settings.db_url.endswith("@sparkify.abc123.us-west-2.redshift.amazonaws.com:5439/dev")
    assert settings.log_data == "s3://udacity-dend/log_data"
    assert settings.log_jsonpath == "s3://udacity-dend/log_json_path.json"
    assert settings.iam_role_arn == "arn:aws:iam::123456789012:role/myRedshiftRole"


def test_the_password_never_shows_in_repr_or_the_safe_url(dwh_cfg: Path) -> None:
    settings = Settings.resolve(config_file=dwh_cfg, environ={})
    assert "S3cret" in settings.db_url  # the engine needs it ...
    assert "S3cret" not in repr(settings)  # ... nothing printed shows it
    assert "S3cret" not in settings.safe_db_url
    assert "S3cret" not in str(settings)


def test_environment_beats_the_file_and_flags_beat_both(dwh_cfg: Path) -> None:
    env = {"SPARKIFY_DB_URL": "duckdb:///from-env.duckdb"}
    assert Settings.resolve(config_file=dwh_cfg, environ=env).db_url == "duckdb:///from-env.duckdb"
    flagged = Settings.resolve(
        config_file=dwh_cfg, environ=env, db_url="duckdb:///flag.duckdb", log_data="/tmp/logs"
    )
    assert flagged.db_url == "duckdb:///flag.duckdb"
    assert flagged.log_data == "/tmp/logs"
    assert flagged.song_data == "s3://udacity-dend/song_data"  # not overridden: from the file


def test_empty_values_in_the_file_keep_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "dwh.cfg"
    path.write_text("[CLUSTER]\nHOST=''\n[S3]\nLOG_DATA=\n")
    settings = Settings.resolve(config_file=path, environ={})
    assert settings == Settings()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Config file not found"),
        ("[CLUSTER\nHOST=x", "Cannot read config file"),
        ("[CLUSTER]\nHOST=h\nDB_PORT=port", "DB_PORT must be a number"),
    ],
)
def test_bad_config_files_are_one_clear_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "dwh.cfg"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        Settings.resolve(config_file=path, environ={})


def test_a_malformed_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match="Not a database URL") as info:
        Settings.resolve(environ={}, db_url="not a url with password hunter2")
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("value", [-1, 100_001])
def test_a_max_error_redshift_would_refuse_is_refused(value: int) -> None:
    # Redshift's COPY takes MAXERROR from 0 to 100000 (Database Developer Guide, COPY).
    with pytest.raises(ConfigError, match="MAXERROR must be a whole number from 0 to 100,000"):
        Settings.resolve(environ={}, max_error=value)
    Settings.resolve(environ={}, max_error=100_000)  # the bound itself is fine


def test_a_dwh_cfg_without_a_password_takes_it_from_the_environment(tmp_path: Path) -> None:
    # `sparkify-dw cluster create` writes dwh.cfg without DB_PASSWORD unless asked.
    path = tmp_path / "dwh.cfg"
    path.write_text(DWH_CFG.replace("DB_PASSWORD='S3cret!Passw0rd'\n", ""))
    env = {"SPARKIFY_DB_PASSWORD": "From3nv!"}
    settings = Settings.resolve(config_file=path, environ=env)
    assert sa.make_url(settings.db_url).password == "From3nv!"
    assert "From3nv" not in repr(settings)
    # A password in the file wins; without the variable there is none.
    full = tmp_path / "full.cfg"
    full.write_text(DWH_CFG)
    with_file = Settings.resolve(config_file=full, environ=env)
    assert sa.make_url(with_file.db_url).password == "S3cret!Passw0rd"
    assert sa.make_url(Settings.resolve(config_file=path, environ={}).db_url).password is None


# Song data without log data, or the reverse (issue 15) -----------------------------------------


@pytest.mark.parametrize(
    ("config", "overrides", "message"),
    [
        ("", {"song_data": "/mine/songs"}, "--song-data (or [S3] SONG_DATA) was given without"),
        ("", {"log_data": "/mine/logs"}, "--log-data (or [S3] LOG_DATA) was given without"),
        ("SONG_DATA=/mine/songs", {}, "give --log-data too"),
        ("LOG_DATA=/mine/logs\nLOG_JSONPATH=/mine/paths.json", {}, "give --song-data too"),
        ("", {"song_data": "/mine/songs", "log_jsonpath": "/mine/p.json"}, "give --log-data"),
    ],
)
def test_one_location_without_the_other_is_refused_for_a_load(
    tmp_path: Path, config: str, overrides: dict[str, str], message: str
) -> None:
    path = tmp_path / "dwh.cfg"
    path.write_text(f"[S3]\n{config}\n")
    env = {"SPARKIFY_DB_URL": "duckdb:///env.duckdb"}
    settings = Settings.resolve(config_file=path, environ=env, **overrides)
    assert settings.db_url == "duckdb:///env.duckdb"  # reading commands still resolve
    with pytest.raises(ConfigError, match=re.escape(message)):
        settings.stage_options()
    with pytest.raises(ConfigError, match="or neither to load the bundled sample"):
        settings.check_sources_given()


@pytest.mark.parametrize(
    ("config", "overrides"),
    [
        ("", {}),  # the sample, whole
        ("", {"song_data": "/mine/songs", "log_data": "/mine/logs"}),  # the sample's JSONPaths
        ("SONG_DATA=/mine/songs", {"log_data": "/mine/logs"}),
        ("LOG_DATA=/mine/logs", {"song_data": str(SAMPLE_DIR / "song_data")}),  # given: chosen
        ("", {"log_jsonpath": "/mine/paths.json"}),
    ],
)
def test_both_locations_or_neither_are_a_load(
    tmp_path: Path, config: str, overrides: dict[str, str]
) -> None:
    path = tmp_path / "dwh.cfg"
    path.write_text(f"[S3]\n{config}\n")
    Settings.resolve(config_file=path, environ={}, **overrides).stage_options()


def test_settings_made_directly_are_checked_by_what_differs_from_the_sample() -> None:
    from dataclasses import replace

    with pytest.raises(ConfigError, match="give --log-data too"):
        Settings(song_data="/mine/songs").stage_options()
    with pytest.raises(ConfigError, match="give --song-data too"):
        replace(Settings(), log_data="s3://mine/logs").stage_options()
    Settings(song_data="/mine/songs", log_data="/mine/logs").stage_options()
