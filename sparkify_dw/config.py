"""Settings: where the data is and which database to load, from flags, environment and dwh.cfg.

Precedence, highest first: explicit arguments (CLI flags), environment (SPARKIFY_DB_URL), the
config file (the original Sparkify scripts' `dwh.cfg`), then the defaults (DuckDB file and the
bundled sample). The database password never appears in `repr()` or in printed URLs.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

from sparkify_dw.errors import ConfigError
from sparkify_dw.urls import DEFAULT_DB_URL, parse_flag, parse_url, redact_url

if TYPE_CHECKING:
    from sparkify_dw.copy.options import Compression, StageOptions

from sparkify_dw.sample import SAMPLE_DIR as SAMPLE_DIR

ENV_DB_URL = "SPARKIFY_DB_URL"
# The cluster's password, for a dwh.cfg written without one (`sparkify-dw cluster create`).
ENV_DB_PASSWORD = "SPARKIFY_DB_PASSWORD"


@dataclass(frozen=True)
class Settings:
    """Everything a load needs. Locations are local paths or s3:// URIs."""

    db_url: str = field(default=DEFAULT_DB_URL, repr=False)
    song_data: str = str(SAMPLE_DIR / "song_data")
    log_data: str = str(SAMPLE_DIR / "log_data")
    log_jsonpath: str = str(SAMPLE_DIR / "log_json_path.json")
    iam_role_arn: str | None = None
    region: str | None = None
    max_error: int = 0
    compression: Compression | None = None
    manifest: bool = False

    @property
    def safe_db_url(self) -> str:
        """The database URL with the password masked."""
        return redact_url(self.db_url)

    def __repr__(self) -> str:
        return (
            f"Settings(db_url={self.safe_db_url!r}, song_data={self.song_data!r}, "
            f"log_data={self.log_data!r}, log_jsonpath={self.log_jsonpath!r}, "
            f"iam_role_arn={self.iam_role_arn!r}, region={self.region!r}, "
            f"max_error={self.max_error}, compression={self.compression!r}, "
            f"manifest={self.manifest})"
        )

    def stage_options(self) -> StageOptions:
        """The sources and COPY options of a load with these settings."""
        from sparkify_dw.copy.options import StageOptions

        # Every StageOptions field is a setting of the same name.
        return StageOptions(**{f.name: getattr(self, f.name) for f in fields(StageOptions)})

    @classmethod
    def resolve(
        cls,
        *,
        config_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: str | int | bool | None,
    ) -> Settings:
        """Combine defaults, the config file, the environment and explicit overrides."""
        settings = cls()
        env = os.environ if environ is None else environ
        if config_file is not None:
            values = read_config_file(config_file, environ=env)
            settings = replace(settings, **values)  # type: ignore[arg-type]
        if env.get(ENV_DB_URL):
            settings = replace(settings, db_url=env[ENV_DB_URL])
        given = {key: value for key, value in overrides.items() if value is not None}
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"Unknown settings: {', '.join(sorted(unknown))}")
        settings = replace(settings, **given)  # type: ignore[arg-type]
        parse_url(settings.db_url)  # fail early, with a clear message, on a malformed URL
        if settings.compression not in (None, "gzip", "bzip2"):
            raise ConfigError(f"compression must be gzip or bzip2, not {settings.compression!r}")
        if settings.max_error < 0:
            raise ConfigError(f"max_error must be 0 or more, not {settings.max_error}")
        return settings


def _with_password(url: str, password: str) -> str:
    """The config file's URL with `password`, unless the file has one or connects with IAM."""
    parsed = parse_url(url)
    if parsed.password or parsed.query.get("iam"):
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def _unquote(value: str) -> str:
    # The original dwh.cfg quotes its values: LOG_DATA='s3://udacity-dend/log_data'.
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read_config_file(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Read a dwh.cfg: [CLUSTER] HOST DB_NAME DB_USER DB_PASSWORD DB_PORT (and optionally IAM
    CLUSTER_IDENTIFIER REGION PROFILE SSLMODE), [IAM_ROLE] ARN, [S3] LOG_DATA LOG_JSONPATH
    SONG_DATA (REGION optional). Empty values are ignored; without DB_PASSWORD (and without IAM)
    the password comes from $SPARKIFY_DB_PASSWORD."""
    if not path.is_file():
        raise ConfigError(f"Config file not found: {path}")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        first_line = str(exc).splitlines()[0]
        raise ConfigError(f"Cannot read config file {path}: {first_line}") from None

    def get(section: str, key: str) -> str:
        return _unquote(parser.get(section, key, fallback=""))

    values: dict[str, str] = {}
    for key, (section, option) in {
        "song_data": ("S3", "SONG_DATA"),
        "log_data": ("S3", "LOG_DATA"),
        "log_jsonpath": ("S3", "LOG_JSONPATH"),
        "region": ("S3", "REGION"),
        "iam_role_arn": ("IAM_ROLE", "ARN"),
    }.items():
        if get(section, option):
            values[key] = get(section, option)
    host = get("CLUSTER", "HOST")
    if host:
        values["db_url"] = _cluster_url(path, host, get)
        env = os.environ if environ is None else environ
        if env.get(ENV_DB_PASSWORD):  # a file written without its password
            values["db_url"] = _with_password(values["db_url"], env[ENV_DB_PASSWORD])
    return values


# Optional [CLUSTER] keys passed to redshift_connector in the URL's query (see db.py).
_CLUSTER_OPTIONS = {
    "cluster_identifier": "CLUSTER_IDENTIFIER",
    "region": "REGION",  # the cluster's region, for IAM; [S3] REGION is the bucket's, for COPY
    "profile": "PROFILE",
    "sslmode": "SSLMODE",
}


def _cluster_url(path: Path, host: str, getter: Callable[[str, str], str]) -> str:
    """The Redshift URL of [CLUSTER]: password authentication, or IAM with `IAM=true`
    (temporary credentials for DB_USER from GetClusterCredentials; DB_PASSWORD is not used)."""
    port = getter("CLUSTER", "DB_PORT") or "5439"
    if not port.isdigit():
        raise ConfigError(f"{path}: [CLUSTER] DB_PORT must be a number, not {port!r}")
    iam_value = getter("CLUSTER", "IAM")
    iam = parse_flag(iam_value, f"{path}: [CLUSTER] IAM") if iam_value else False
    query = {key: getter("CLUSTER", option) for key, option in _CLUSTER_OPTIONS.items()}
    if iam:
        query["iam"] = "true"
    url = URL.create(
        "redshift+redshift_connector",
        username=getter("CLUSTER", "DB_USER") or None,
        password=None if iam else getter("CLUSTER", "DB_PASSWORD") or None,
        host=host,
        port=int(port),
        database=getter("CLUSTER", "DB_NAME") or None,
        query={key: value for key, value in query.items() if value},
    )
    return url.render_as_string(hide_password=False)
