"""dwh.cfg, the original Sparkify scripts' config file, read and written in one place.

- `read_config_file`: the settings a dwh.cfg gives (`Settings.resolve(config_file=…)` and
  Alembic's env.py read it): [CLUSTER] as a Redshift URL, [IAM_ROLE] ARN, [S3] locations.
- `write_dwh_config` with `config_values`: a cluster's endpoint and role set in a dwh.cfg
  (`sparkify-dw cluster create`), keeping every other section, key and comment.

Reading fails with ConfigError, writing with ClusterError (as `sparkify-dw cluster` reports).
SQLAlchemy is imported only when reading: `sparkify-dw cluster` and `--version` load none.
"""

from __future__ import annotations

import configparser
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final, Protocol

from sparkify_dw.errors import ClusterError, ConfigError
from sparkify_dw.files import write_atomically

# The cluster's password, for a dwh.cfg written without one (`sparkify-dw cluster create`).
ENV_DB_PASSWORD = "SPARKIFY_DB_PASSWORD"
PORT: Final = 5439  # Redshift's, when [CLUSTER] has no DB_PORT


# Reading ----------------------------------------------------------------------------------


def _with_password(url: str, password: str) -> str:
    """The config file's URL with `password`, unless the file has one or connects with IAM."""
    from sparkify_dw.urls import parse_url

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
    SONG_DATA (REGION, MANIFEST_PREFIX optional). Empty values are ignored; without
    DB_PASSWORD (and without IAM) the password comes from $SPARKIFY_DB_PASSWORD."""
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
        "manifest_prefix": ("S3", "MANIFEST_PREFIX"),
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
    from sqlalchemy.engine import URL

    from sparkify_dw.urls import parse_flag

    port = getter("CLUSTER", "DB_PORT") or str(PORT)
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


# Writing ----------------------------------------------------------------------------------


class ClusterEndpoint(Protocol):
    """What dwh.cfg's [CLUSTER] says of a cluster (a `cluster.ClusterStatus` has it)."""

    @property
    def host(self) -> str | None: ...
    @property
    def port(self) -> int | None: ...
    @property
    def db_name(self) -> str: ...
    @property
    def db_user(self) -> str: ...


def config_values(
    status: ClusterEndpoint, role_arn: str, password: str | None = None
) -> dict[str, dict[str, str]]:
    """The [CLUSTER] and [IAM_ROLE] keys for a cluster (HOST only once it has an endpoint)."""
    cluster = {"DB_NAME": status.db_name, "DB_USER": status.db_user}
    cluster["DB_PORT"] = str(status.port or PORT)
    if status.host:
        cluster = {"HOST": status.host, **cluster}
    if password is not None:
        cluster["DB_PASSWORD"] = password
    return {"CLUSTER": cluster, "IAM_ROLE": {"ARN": role_arn}}


def write_dwh_config(path: Path, values: Mapping[str, Mapping[str, str]]) -> bool:
    """Set these keys in a dwh.cfg, keeping its other sections, keys and comments; make the
    file if it does not exist. Written atomically, readable by its owner only when it holds a
    DB_PASSWORD. True when the file changed."""
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ClusterError(f"Cannot read {path}: {exc}") from None
    new = update_ini(old, values)
    private = "DB_PASSWORD" in _section_keys(new, "CLUSTER")
    if new == old and not (private and _readable_by_others(path)):
        return False
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
        if private:
            mode &= 0o600
        write_atomically(path, new, mode)
    except OSError as exc:
        raise ClusterError(f"Cannot write {path}: {exc.strerror or exc}") from None
    return True


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & 0o077)
    except OSError:
        return False


_SECTION = re.compile(r"\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(r"([^=:\s#;\[][^=:]*?)\s*[=:]")  # at the start of a line: not a continuation


def _section_keys(text: str, section: str) -> set[str]:
    """The keys (upper case) of one section of an INI text."""
    keys, current = set(), None
    for line in text.splitlines():
        if header := _SECTION.match(line):
            current = header.group(1).strip()
        elif current == section and (key := _KEY.match(line)):
            keys.add(key.group(1).upper())
    return keys


def update_ini(text: str, values: Mapping[str, Mapping[str, str]]) -> str:
    """`text` with each `values[section][KEY]` set: an existing key's line is replaced (keys
    match case-insensitively, as configparser reads them), a missing key goes after the last
    key of its section, a missing section at the end. Everything else is kept as it was."""
    pending = {section: dict(keys) for section, keys in values.items()}
    out: list[str] = []
    current: str | None = None
    replacing = False  # skipping the continuation lines of a value being replaced

    def close_section() -> None:
        missing = pending.pop(current, None) if current is not None else None
        if not missing:
            return
        blanks = 0
        while out and not out[-1].strip():
            out.pop()
            blanks += 1
        out.extend(f"{key}={value}" for key, value in missing.items())
        out.extend([""] * blanks)

    for line in text.splitlines():
        if header := _SECTION.match(line):
            close_section()
            current, replacing = header.group(1).strip(), False
            out.append(line)
            continue
        if replacing and line[:1].isspace() and line.strip():
            continue
        replacing = False
        key = _KEY.match(line)
        if key and current in pending:
            wanted = {name.upper(): name for name in pending[current]}
            if key.group(1).upper() in wanted:
                value = pending[current].pop(wanted[key.group(1).upper()])
                out.append(f"{key.group(1)}={value}")
                replacing = True
                continue
        out.append(line)
    close_section()
    for section, keys in pending.items():
        if out and out[-1].strip():
            out.append("")
        out.append(f"[{section}]")
        out.extend(f"{key}={value}" for key, value in keys.items())
    return "\n".join(out) + "\n"
