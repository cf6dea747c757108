"""Settings: where the data is and which database to load, from flags, environment and dwh.cfg.

Precedence, highest first: explicit arguments (CLI flags), environment (SPARKIFY_DB_URL), the
config file (the original Sparkify scripts' `dwh.cfg`), then the defaults (DuckDB file and the
bundled sample). The database password never appears in `repr()` or in printed URLs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sparkify_dw.copy.options import check_max_error
from sparkify_dw.dwhcfg import read_config_file as read_config_file
from sparkify_dw.errors import ConfigError
from sparkify_dw.urls import DEFAULT_DB_URL, parse_url, redact_url

if TYPE_CHECKING:
    from sparkify_dw.copy.options import Compression, StageOptions

from sparkify_dw.sample import SAMPLE_DIR as SAMPLE_DIR

ENV_DB_URL = "SPARKIFY_DB_URL"
# How a user names each data location: its flag and its dwh.cfg key.
_SOURCE_NAMES = {"song_data": ("--song-data", "SONG_DATA"), "log_data": ("--log-data", "LOG_DATA")}


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
    manifest_prefix: str | None = None  # Redshift: where the file ledger's manifests are written
    # Which of song_data and log_data were given (by a flag or the config file), as `resolve`
    # found them; None (made directly, or by `replace`): those that differ from the sample's.
    _given: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

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
            f"manifest={self.manifest}, manifest_prefix={self.manifest_prefix!r})"
        )

    def check_sources_given(self) -> None:
        """Refuse song data without log data, or the reverse: the other would be the bundled
        sample's, and a load would mix the user's data with it (0 plays matched, every check
        passing). The JSONPaths file may stay the sample's: it fits any Sparkify event log."""
        given = self._given
        if given is None:
            defaults = type(self)()
            given = frozenset(
                name
                for name in ("song_data", "log_data")
                if getattr(self, name) != getattr(defaults, name)
            )
        for name, other in (("song_data", "log_data"), ("log_data", "song_data")):
            if name in given and other not in given:
                flag, key = _SOURCE_NAMES[name]
                other_flag, other_key = _SOURCE_NAMES[other]
                raise ConfigError(
                    f"{flag} (or [S3] {key}) was given without {other_flag} (or [S3] "
                    f"{other_key}): give {other_flag} too, or neither to load the bundled sample"
                )

    def stage_options(self) -> StageOptions:
        """The sources and COPY options of a load with these settings (song data and log data
        both the user's, or both the sample's: see `check_sources_given`)."""
        from sparkify_dw.copy.options import StageOptions

        self.check_sources_given()
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
        given_sources: set[str] = set()
        if config_file is not None:
            values = read_config_file(config_file, environ=env)
            settings = replace(settings, **values)  # type: ignore[arg-type]
            given_sources.update(values)
        if env.get(ENV_DB_URL):
            settings = replace(settings, db_url=env[ENV_DB_URL])
        given = {key: value for key, value in overrides.items() if value is not None}
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise TypeError(f"Unknown settings: {', '.join(sorted(unknown))}")
        settings = replace(settings, **given)  # type: ignore[arg-type]
        given_sources.update(given)
        object.__setattr__(settings, "_given", frozenset(given_sources & {"song_data", "log_data"}))
        try:  # fail early, with a clear message (and no password), on a malformed URL
            parse_url(settings.db_url)
        except ConfigError as exc:
            # The command passes $SPARKIFY_DB_URL in as its --db (click reads it): the same text
            # is named after the variable, which is where the user will look.
            from_env = settings.db_url == env.get(ENV_DB_URL)
            raise ConfigError(f"{exc} (from ${ENV_DB_URL})" if from_env else str(exc)) from None
        if settings.compression not in (None, "gzip", "bzip2"):
            raise ConfigError(f"compression must be gzip or bzip2, not {settings.compression!r}")
        check_max_error(settings.max_error)
        return settings
