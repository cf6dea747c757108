"""Anchors: the project's whole `sparkify-dw run` against hand-written SQL builds of its tables.

Four variants, each run in a fresh subprocess whose wall time, CPU and peak RSS are measured
(the last two by GNU time around it, see `measured`), on data written by
`sparkify_dw.datagen.generate`:

- `duckdb-project`: `python -m sparkify_dw run --db duckdb:///<new file> …`, the real command:
  it migrates, stages (the COPY emulation), merges the star tables and runs the checks;
- `duckdb-anchor`: hand-written DuckDB SQL building the five star tables from the same files,
  DuckDB's own `read_ndjson` for the logs and the song files (no reject tracking, no staging
  tables kept): the physical limit the project's DuckDB path can be compared with;
- `postgresql-project`: the same command into a new PostgreSQL database;
- `postgresql-anchor`: the raw lines COPYed (psycopg's copy protocol) into one-column tables,
  then one INSERT … SELECT with jsonb per star table.

The variants run alternately, round after round, so a change in the machine's load hits all of
them alike; each run records the 1-minute load average before it. The medians, the ratios
project/anchor per engine and every run are appended to `benchmarks/results.md`.
`--verify` instead builds each variant once and compares the anchors' star tables with the
project's, row by row. What each variant does and what the figures showed: benchmarks/README.md.

    PYTHONPATH=. .venv/bin/python benchmarks/anchors.py                  # 1M events, 3 rounds
    PYTHONPATH=. .venv/bin/python benchmarks/anchors.py --events 20000 --songs 500 --verify
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import stage  # noqa: E402  (benchmarks/stage.py: the cached data set, databases, machine facts)

DEFAULT_OUT = HERE / "results.md"
ENGINES = ("duckdb", "postgresql")
KINDS = ("project", "anchor")
SONG_READERS = ("concat", "glob")  # how the DuckDB anchor reads the 20,000 one-object song files
PG_RAW_TYPES = ("jsonb", "text")  # the PostgreSQL anchor's one raw column
DUCKDB_MEMORY_LIMIT = "512MB"  # what sparkify_dw gives DuckDB (backends/duckdb.py); the anchor too
MIB = 1024 * 1024
STAR = ("songplays", "users", "songs", "artists", "time")
# Each star table's contract columns (the surrogate songplay_id and users.source_ts left out):
# what --verify compares.
STAR_COLUMNS = {
    "songplays": "start_time, user_id, level, song_id, artist_id, session_id, location, user_agent",
    "users": "user_id, first_name, last_name, gender, level",
    "songs": "song_id, title, artist_id, year, duration",
    "artists": "artist_id, name, location, latitude, longitude",
    "time": "start_time, hour, day, week, month, year, weekday",
}
# staging_events' columns in JSONPaths order (data contract), with the DuckDB type each is read as
EVENT_COLUMNS = (
    ("artist", "VARCHAR"),
    ("auth", "VARCHAR"),
    ("first_name", "VARCHAR"),
    ("gender", "VARCHAR"),
    ("item_in_session", "INTEGER"),
    ("last_name", "VARCHAR"),
    ("length", "DOUBLE"),
    ("level", "VARCHAR"),
    ("location", "VARCHAR"),
    ("method", "VARCHAR"),
    ("page", "VARCHAR"),
    ("registration", "DOUBLE"),
    ("session_id", "INTEGER"),
    ("song", "VARCHAR"),
    ("status", "INTEGER"),
    ("ts", "BIGINT"),
    ("user_agent", "VARCHAR"),
    ("user_id", "VARCHAR"),
)
SONG_COLUMNS = (
    ("num_songs", "INTEGER"),
    ("artist_id", "VARCHAR"),
    ("artist_latitude", "DOUBLE"),
    ("artist_longitude", "DOUBLE"),
    ("artist_location", "VARCHAR"),
    ("artist_name", "VARCHAR"),
    ("song_id", "VARCHAR"),
    ("title", "VARCHAR"),
    ("duration", "DOUBLE"),
    ("year", "INTEGER"),
)
# The PostgreSQL spelling of those types, for casting jsonb text
PG_TYPES = {"VARCHAR": "text", "INTEGER": "integer", "DOUBLE": "float8", "BIGINT": "bigint"}
ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception)\b")  # a traceback's last line, or `run`'s
STEP_ROW = re.compile(r"^│\s*(\S[^│]*?)\s*│\s*([0-9.]+)\s*│\s*$")  # the run's step table
RESULTS_TITLE = "Anchors"
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None  # GNU time: see measured
MEASURED_BY = (
    "GNU time (`%M`, `%U`+`%S`) around each child"
    if TIME
    else "`os.wait4` (no GNU time: a peak below this parent's own is hidden by it)"
)


# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The project's full run against hand-written SQL builds (anchors).",
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--songs", type=int, default=20_000, help="song files to generate")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; every variant once a round")
    parser.add_argument("--engines", default=",".join(ENGINES), help="duckdb,postgresql")
    parser.add_argument(
        "--variants",
        default=",".join(KINDS),
        help="project,anchor, or full names such as duckdb-anchor (default: both kinds)",
    )
    parser.add_argument(
        "--song-reader",
        choices=SONG_READERS,
        default="concat",
        help="DuckDB anchor: concatenate the song files in Python into one NDJSON temp file "
        "(concat, the faster), or read them with DuckDB's multi-file reader (glob)",
    )
    parser.add_argument(
        "--pg-raw",
        choices=PG_RAW_TYPES,
        default="jsonb",
        help="PostgreSQL anchor: the type of the raw lines' one column (jsonb parses each line "
        "once, at COPY; text parses it in every INSERT … SELECT)",
    )
    parser.add_argument(
        "--memory-limit",
        default=DUCKDB_MEMORY_LIMIT,
        help="DuckDB anchor's memory_limit (default: the project's own cap)",
    )
    parser.add_argument("--pg-url", default=stage.DEFAULT_PG_URL, help="PostgreSQL admin URL")
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: cached)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file to append to")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="build each variant once and compare the anchors' star tables with the project's",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: an anchor's spec
    args = parser.parse_args(argv)
    if args.child is None:
        args.variant_list = parse_variants(parser, args.engines, args.variants)
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
    return args


def parse_variants(parser: argparse.ArgumentParser, engines_text: str, text: str) -> list[str]:
    """The variants to run, in the order of a round: per engine, the project then its anchor."""
    engines = [e.strip() for e in engines_text.split(",") if e.strip()]
    if not engines or any(e not in ENGINES for e in engines):
        parser.error(f"--engines takes a list of {', '.join(ENGINES)}; got {engines_text!r}")
    names = [v.strip() for v in text.split(",") if v.strip()]
    every = [f"{e}-{k}" for e in ENGINES for k in KINDS]
    if not names or any(n not in KINDS and n not in every for n in names):
        parser.error(f"--variants takes project, anchor or any of {', '.join(every)}; got {text!r}")
    variants = [f"{e}-{k}" for e in engines for k in KINDS if k in names or f"{e}-{k}" in names]
    if not variants:
        parser.error("--engines and --variants select no variant")
    return variants


# --------------------------------------------------------------------------- databases


@dataclass(frozen=True)
class Target:
    engine: str
    url: str  # SQLAlchemy URL, for the project's command
    dsn: str  # DuckDB file or libpq conninfo, for the anchors and the counts
    workdir: str  # the child's working folder (and the DuckDB anchor's temp file)


@contextlib.contextmanager
def fresh_target(engine: str, pg_url: str) -> Iterator[Target]:
    """A new, empty database and a scratch folder; both removed afterwards, even on failure."""
    with tempfile.TemporaryDirectory(prefix="sparkify-anchors-") as folder:
        if engine == "duckdb":
            path = Path(folder) / "bench.duckdb"
            yield Target(engine, f"duckdb:///{path}", str(path), folder)
            return
        import sqlalchemy as sa

        with stage.postgres_database(pg_url) as url:
            dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(False)
            yield Target(engine, url, dsn, folder)


@contextlib.contextmanager
def connect(target: Target) -> Iterator[Any]:
    """A DB-API connection to the target (read-only on DuckDB)."""
    if target.engine == "duckdb":
        import duckdb

        connection = duckdb.connect(target.dsn, read_only=True)
    else:
        import psycopg

        connection = psycopg.connect(target.dsn)
    try:
        yield connection
    finally:
        connection.close()


def star_counts(target: Target) -> dict[str, int]:
    with connect(target) as connection:
        return {
            t: int(connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in STAR
        }


def normal(value: Any) -> Any:
    """One value as both engines and both variants give it (PostgreSQL's EXTRACT: numeric)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def star_rows(target: Target) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every star table's contract columns, as a multiset of rows."""
    with connect(target) as connection:
        return {
            t: Counter(
                tuple(normal(v) for v in row)
                for row in connection.execute(f'SELECT {STAR_COLUMNS[t]} FROM "{t}"').fetchall()
            )
            for t in STAR
        }


def checksum(rows: Counter[tuple[Any, ...]]) -> str:
    """sha256 of the rows' texts, sorted: equal multisets of rows, equal checksums."""
    digest = hashlib.sha256()
    for text in sorted(repr(row) for row in rows.elements()):
        digest.update(text.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:12]


# --------------------------------------------------------------------------- running a variant


@dataclass
class Run:
    variant: str
    round: int
    ok: bool
    wall: float = 0.0
    cpu: float = 0.0  # the child's user + system CPU (not a database server's)
    rss: int = 0  # the child's peak resident bytes
    load: float | None = None  # 1-minute load average before the run
    phases: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class AnchorSpec:
    variant: str
    dsn: str
    workdir: str
    song_data: str
    log_data: str
    log_jsonpath: str
    song_reader: str
    pg_raw: str
    memory_limit: str


def child_env() -> dict[str, str]:
    """The environment of every child: this tree's sparkify_dw first on the path."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), path) if p)}


def imported_from() -> str:
    """Where the children import sparkify_dw from (must be this tree)."""
    done = subprocess.run(
        [sys.executable, "-c", "import sparkify_dw; print(sparkify_dw.__file__)"],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    return done.stdout.strip() or f"import failed: {done.stderr.strip()}"


@dataclass(frozen=True)
class Usage:
    code: int
    wall: float  # seconds
    cpu: float  # user + system seconds of the command
    rss: int  # peak resident bytes of the command
    stdout: str
    stderr: str


def measured(command: list[str], cwd: str) -> Usage:
    """Run a command in a fresh process: exit code, wall time, CPU, peak RSS and its output.

    Through GNU time when there is one: the command is then forked by a small process. Python
    starts a child with vfork, and Linux carries the old address space's high-water RSS over an
    exec into the new program's `ru_maxrss`, so `os.wait4` on a direct child reports at least
    this parent's own peak (measured: 311 MiB for `python -c pass` after the parent touched
    300 MiB; GNU time said 8 MiB). Without GNU time, `os.wait4` (see MEASURED_BY).
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as stats,
    ):
        if TIME is not None:
            command = [TIME, "-f", "%x %M %U %S", "-o", stats.name, "--", *command]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd, env=child_env())
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        rss, cpu = usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime
        if TIME is not None:
            last = (stats.read().strip().splitlines() or [""])[-1].split()
            if len(last) == 4:  # "exit max-rss-KiB user system"; else time failed: keep wait4's
                code, rss, cpu = int(last[0]), int(last[1]) * 1024, float(last[2]) + float(last[3])
        out.seek(0)
        err.seek(0)
        return Usage(code, wall, cpu, rss, out.read().decode(), err.read().decode())


def project_command(target: Target, data: stage.DataSet) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sparkify_dw",
        "run",
        "--db",
        target.url,
        "--song-data",
        data.song_data,
        "--log-data",
        data.log_data,
        "--log-jsonpath",
        data.log_jsonpath,
    ]


def anchor_command(spec: AnchorSpec) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(asdict(spec))]


def project_steps(stdout: str) -> dict[str, float]:
    """The step table `run` prints (migrate, stage, the star tables, total); {} if not found."""
    steps: dict[str, float] = {}
    for line in stdout.splitlines():
        match = STEP_ROW.match(line.strip())
        if match:
            steps[match.group(1)] = float(match.group(2))
    return steps


def error_line(text: str) -> str:
    """The line that names the failure: the last `SomeError: …` line, else the last line
    (DuckDB's messages end with advice and a link, not the error)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    named = [line for line in lines if ERROR_LINE.match(line)]
    return (named or lines or ["no output"])[-1]


def run_variant(
    variant: str, number: int, data: stage.DataSet, args: argparse.Namespace
) -> tuple[Run, Target | None, Callable[[], None]]:
    """One run of a variant in a fresh database; the caller drops the database by calling the
    third item (after comparing its tables, in --verify)."""
    engine, kind = variant.split("-")
    stack = contextlib.ExitStack()
    try:
        target = stack.enter_context(fresh_target(engine, args.pg_url))
    except Exception as exc:  # a database that cannot be created: report it, go on
        stack.close()
        return Run(variant, number, False, error=f"{type(exc).__name__}: {exc}"), None, stack.close
    if kind == "project":
        command = project_command(target, data)
    else:
        spec = AnchorSpec(
            variant,
            target.dsn,
            target.workdir,
            data.song_data,
            data.log_data,
            data.log_jsonpath,
            args.song_reader,
            args.pg_raw,
            args.memory_limit,
        )
        command = anchor_command(spec)
    load = stage.load_average()
    usage = measured(command, target.workdir)
    code, out, err = usage.code, usage.stdout, usage.stderr
    run = Run(variant, number, code == 0, usage.wall, usage.cpu, usage.rss, load)
    if code != 0:
        run.error = f"exit code {code}: {error_line(err or out)}"
        sys.stderr.write(err[-4000:])
        return run, target, stack.close
    if kind == "project":
        run.phases = project_steps(out)
        inside = run.phases.get("total")
    else:
        run.phases = json.loads(out.strip().splitlines()[-1])["phases"]
        inside = sum(run.phases.values())
    if inside is not None:  # the interpreter's start, imports and (project) checks and report
        run.phases["outside the build"] = run.wall - inside
    try:
        run.counts = star_counts(target)
    except Exception as exc:
        run.ok, run.error = False, f"counting the star tables: {type(exc).__name__}: {exc}"
    return run, target, stack.close


# --------------------------------------------------------------------------- the anchors (child)


class Phases:
    """Seconds of each named phase of an anchor, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def jsonpath_keys(path: str) -> list[str]:
    """The event keys the JSONPaths file maps to staging_events' columns, by position."""
    with open(path, encoding="utf-8") as file:
        paths = json.load(file)["jsonpaths"]
    keys = []
    for text in paths:
        match = re.fullmatch(r"\$\['([^']+)'\]|\$\.(\w+)", text)
        if match is None:
            raise SystemExit(f"Unsupported JSONPath in {path}: {text}")
        keys.append(match.group(1) or match.group(2))
    if len(keys) != len(EVENT_COLUMNS):
        raise SystemExit(f"{path} has {len(keys)} paths; staging_events has {len(EVENT_COLUMNS)}")
    return keys


def song_files(folder: str) -> Iterator[str]:
    """Every .json file under the song folder."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".json"):
                yield os.path.join(root, name)


def song_lines(folder: str) -> Iterator[bytes]:
    """Each song file as one NDJSON line: a raw newline in JSON is whitespace outside strings
    (inside one it must be escaped), so the pretty-printed files become one line as they are."""
    for path in song_files(folder):
        with open(path, "rb") as file:
            text = file.read().strip()
        if text:
            yield text.replace(b"\r", b" ").replace(b"\n", b" ") + b"\n"


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def duckdb_columns(pairs: list[tuple[str, str]]) -> str:
    """read_ndjson's `columns` struct: JSON key → type."""
    return "{" + ", ".join(f"{sql_text(k)}: {sql_text(t)}" for k, t in pairs) + "}"


# The star tables from the `events` and `songs` relations (DuckDB). Same rules as the project
# (data contract, "Star tables"); tie-breaks written out, so the result is deterministic.
DUCKDB_STAR = {
    "users": """
CREATE TABLE users AS
SELECT CAST(user_id AS INTEGER) AS user_id, first_name, last_name, gender, level
FROM {events}
WHERE user_id <> ''
QUALIFY row_number() OVER (
    PARTITION BY CAST(user_id AS INTEGER)
    ORDER BY ts DESC, session_id DESC NULLS LAST, item_in_session DESC NULLS LAST,
             level DESC NULLS LAST, first_name DESC NULLS LAST, last_name DESC NULLS LAST,
             gender DESC NULLS LAST) = 1""",
    "songs": """
CREATE TABLE songs AS
SELECT song_id, title, artist_id, CAST(nullif(year, 0) AS SMALLINT) AS year, duration
FROM songs_raw
WHERE song_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY song_id ORDER BY title, artist_id, duration) = 1""",
    "artists": """
CREATE TABLE artists AS
SELECT artist_id, artist_name AS name, nullif(artist_location, '') AS location,
       artist_latitude AS latitude, artist_longitude AS longitude
FROM songs_raw
WHERE artist_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY artist_id ORDER BY song_id) = 1""",
    "songplays": """
CREATE TABLE songplays AS
WITH plays AS (
    SELECT epoch_ms(ts) AS start_time, CAST(user_id AS INTEGER) AS user_id, level, session_id,
           location, user_agent, song, artist, length
    FROM {events}
    WHERE page = 'NextSong' AND user_id <> ''
    QUALIFY row_number() OVER (
        PARTITION BY CAST(user_id AS INTEGER), session_id, ts ORDER BY item_in_session) = 1
), matches AS (
    SELECT song_id, artist_id, title, artist_name, duration
    FROM songs_raw
    WHERE song_id IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY title, artist_name, duration ORDER BY song_id) = 1
)
SELECT CAST(row_number() OVER () - 1 AS BIGINT) AS songplay_id, p.start_time, p.user_id,
       p.level, m.song_id, m.artist_id, p.session_id, p.location, p.user_agent
FROM plays AS p
LEFT JOIN matches AS m
  ON m.title = p.song AND m.artist_name = p.artist AND m.duration = p.length""",
    "time": """
CREATE TABLE time AS
SELECT start_time,
       CAST(extract('hour' FROM start_time) AS SMALLINT) AS hour,
       CAST(extract('day' FROM start_time) AS SMALLINT) AS day,
       CAST(extract('week' FROM start_time) AS SMALLINT) AS week,
       CAST(extract('month' FROM start_time) AS SMALLINT) AS month,
       CAST(extract('year' FROM start_time) AS SMALLINT) AS year,
       CAST(extract('dow' FROM start_time) AS SMALLINT) AS weekday
FROM (SELECT DISTINCT start_time FROM songplays)""",
}


def duckdb_anchor(spec: AnchorSpec) -> dict[str, float]:
    """The five star tables by DuckDB alone, in one transaction.

    The logs are read by `read_ndjson` wherever a table needs them (reading JSON twice costs
    less than materialising 18 columns of a million rows); the songs, read once into a
    temporary table.
    """
    import duckdb

    phase = Phases()
    keys = jsonpath_keys(spec.log_jsonpath)
    columns = duckdb_columns([(k, t) for k, (_, t) in zip(keys, EVENT_COLUMNS, strict=True)])
    renames = ", ".join(f'"{k}" AS {c}' for k, (c, _) in zip(keys, EVENT_COLUMNS, strict=True))
    logs = sql_text(os.path.join(spec.log_data, "**", "*.json"))
    events = f"(SELECT {renames} FROM read_ndjson({logs}, columns = {columns}))"
    song_columns = duckdb_columns(list(SONG_COLUMNS))
    with phase("connect"):
        connection = duckdb.connect(spec.dsn, config={"memory_limit": spec.memory_limit})
    if spec.song_reader == "concat":
        with phase("songs: concatenate"):
            songs_file = os.path.join(spec.workdir, "songs.ndjson")
            with open(songs_file, "wb") as out:
                out.writelines(song_lines(spec.song_data))
        songs_source = f"read_ndjson({sql_text(songs_file)}, columns = {song_columns})"
    else:
        songs_glob = sql_text(os.path.join(spec.song_data, "**", "*.json"))
        songs_source = f"read_json({songs_glob}, columns = {song_columns}, format = 'auto')"
    connection.execute("BEGIN")
    with phase("songs: read"):
        connection.execute(f"CREATE TEMPORARY TABLE songs_raw AS SELECT * FROM {songs_source}")
    for table in ("songs", "artists", "users", "songplays", "time"):
        with phase(table):
            connection.execute(DUCKDB_STAR[table].format(events=events))
    with phase("commit"):
        connection.execute("COMMIT")
        connection.close()
    return phase.seconds


def pg_field(j: str, key: str, kind: str) -> str:
    """One field of the raw JSON object `j` (a jsonb expression), as its staging type."""
    value = f"({j} ->> {sql_text(key)})"
    return value if kind == "VARCHAR" else f"{value}::{PG_TYPES[kind]}"


def pg_raw_source(table: str, kind: str) -> str:
    """The raw table's objects as a jsonb column `j`. A text column is cast once per row:
    OFFSET 0 keeps the planner from inlining the cast into every field (18 parses a row)."""
    if kind == "jsonb":
        return f"{table} WHERE j IS NOT NULL"
    return f"(SELECT j::jsonb AS j FROM {table} WHERE j IS NOT NULL OFFSET 0) AS raw"


PG_DDL = """
CREATE TABLE songplays (
    songplay_id bigint GENERATED ALWAYS AS IDENTITY (MINVALUE 0 START WITH 0) PRIMARY KEY,
    start_time timestamp NOT NULL, user_id integer NOT NULL, level varchar(16),
    song_id varchar(32), artist_id varchar(32), session_id integer NOT NULL,
    location varchar(512), user_agent varchar(512));
CREATE TABLE users (user_id integer PRIMARY KEY, first_name varchar(256),
    last_name varchar(256), gender varchar(16), level varchar(16));
CREATE TABLE songs (song_id varchar(32) PRIMARY KEY, title varchar(512), artist_id varchar(32),
    year smallint, duration double precision);
CREATE TABLE artists (artist_id varchar(32) PRIMARY KEY, name varchar(512),
    location varchar(512), latitude double precision, longitude double precision);
CREATE TABLE time (start_time timestamp PRIMARY KEY, hour smallint NOT NULL,
    day smallint NOT NULL, week smallint NOT NULL, month smallint NOT NULL,
    year smallint NOT NULL, weekday smallint NOT NULL);
"""

# The star tables from `events` (a view of the raw jsonb with staging_events' columns) and
# `songs_raw` (the raw song objects): one INSERT … SELECT each.
PG_STAR = {
    "songs": """
INSERT INTO songs (song_id, title, artist_id, year, duration)
SELECT DISTINCT ON (song_id) song_id, title, artist_id, nullif(year, 0), duration
FROM songs_raw WHERE song_id IS NOT NULL
ORDER BY song_id, title, artist_id, duration""",
    "artists": """
INSERT INTO artists (artist_id, name, location, latitude, longitude)
SELECT DISTINCT ON (artist_id) artist_id, artist_name, nullif(artist_location, ''),
       artist_latitude, artist_longitude
FROM songs_raw WHERE artist_id IS NOT NULL
ORDER BY artist_id, song_id""",
    "users": """
INSERT INTO users (user_id, first_name, last_name, gender, level)
SELECT DISTINCT ON (user_id::integer) user_id::integer, first_name, last_name, gender, level
FROM events WHERE user_id <> ''
ORDER BY user_id::integer, ts DESC, session_id DESC NULLS LAST,
         item_in_session DESC NULLS LAST, level DESC NULLS LAST, first_name DESC NULLS LAST,
         last_name DESC NULLS LAST, gender DESC NULLS LAST""",
    "songplays": """
INSERT INTO songplays (start_time, user_id, level, song_id, artist_id, session_id, location,
                       user_agent)
WITH plays AS (
    SELECT DISTINCT ON (user_id::integer, session_id, ts)
           TIMESTAMP 'epoch' + ts * INTERVAL '1 millisecond' AS start_time,
           user_id::integer AS user_id, level, session_id, location, user_agent, song, artist,
           length
    FROM events WHERE page = 'NextSong' AND user_id <> ''
    ORDER BY user_id::integer, session_id, ts, item_in_session
), matches AS (
    SELECT DISTINCT ON (title, artist_name, duration) song_id, artist_id, title, artist_name,
           duration
    FROM songs_raw WHERE song_id IS NOT NULL
    ORDER BY title, artist_name, duration, song_id
)
SELECT p.start_time, p.user_id, p.level, m.song_id, m.artist_id, p.session_id, p.location,
       p.user_agent
FROM plays AS p
LEFT JOIN matches AS m
  ON m.title = p.song AND m.artist_name = p.artist AND m.duration = p.length""",
    "time": """
INSERT INTO time (start_time, hour, day, week, month, year, weekday)
SELECT start_time, extract(hour FROM start_time), extract(day FROM start_time),
       extract(week FROM start_time), extract(month FROM start_time),
       extract(year FROM start_time), extract(dow FROM start_time)
FROM (SELECT DISTINCT start_time FROM songplays) AS s""",
}
# COPY's CSV format with a quote and a delimiter that valid JSON never holds raw (control
# characters must be escaped in JSON): each line arrives as it is, backslashes and all.
PG_COPY_RAW = "COPY {table} (j) FROM STDIN (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
COPY_CHUNK = 1 << 20


def log_files(folder: str) -> list[str]:
    return sorted(
        os.path.join(root, name)
        for root, _, files in os.walk(folder)
        for name in files
        if name.endswith(".json")
    )


def file_chunks(paths: list[str]) -> Iterator[bytes]:
    """The files' bytes in chunks, each file ending with a newline (so lines never merge)."""
    for path in paths:
        last = b"\n"
        with open(path, "rb") as file:
            while chunk := file.read(COPY_CHUNK):
                last = chunk[-1:]
                yield chunk
        if last != b"\n":
            yield b"\n"


def postgresql_anchor(spec: AnchorSpec) -> dict[str, float]:
    """The five star tables by PostgreSQL alone, in one transaction: raw lines COPYed into
    one-column temporary tables, then one INSERT … SELECT with jsonb per star table."""
    import psycopg

    phase = Phases()
    keys = jsonpath_keys(spec.log_jsonpath)
    event_fields = ",\n    ".join(
        f"{pg_field('j', k, t)} AS {c}" for k, (c, t) in zip(keys, EVENT_COLUMNS, strict=True)
    )
    song_fields = ", ".join(f"{pg_field('j', c, t)} AS {c}" for c, t in SONG_COLUMNS)
    with phase("connect"):
        connection = psycopg.connect(spec.dsn)  # not autocommit: one transaction, as the project
    with connection.cursor() as cursor:
        with phase("create tables"):
            cursor.execute(PG_DDL)
            for table in ("events_raw", "songs_raw_lines"):
                cursor.execute(f"CREATE TEMPORARY TABLE {table} (j {spec.pg_raw})")
        with phase("songs: COPY"):
            with cursor.copy(PG_COPY_RAW.format(table="songs_raw_lines")) as copy:
                for line in song_lines(spec.song_data):
                    copy.write(line)
            cursor.execute(
                f"CREATE TEMPORARY TABLE songs_raw AS SELECT {song_fields} "
                f"FROM {pg_raw_source('songs_raw_lines', spec.pg_raw)}"
            )
            cursor.execute("ANALYZE songs_raw")
        with phase("events: COPY"):
            with cursor.copy(PG_COPY_RAW.format(table="events_raw")) as copy:
                for chunk in file_chunks(log_files(spec.log_data)):
                    copy.write(chunk)
            cursor.execute("ANALYZE events_raw")
            cursor.execute(
                f"CREATE TEMPORARY VIEW events AS SELECT\n    {event_fields}\n"
                f"FROM {pg_raw_source('events_raw', spec.pg_raw)}"
            )
        for table in ("songs", "artists", "users", "songplays", "time"):
            with phase(table):
                cursor.execute(PG_STAR[table])
    with phase("commit"):
        connection.commit()
        connection.close()
    return phase.seconds


def child_main(spec_json: str) -> int:
    spec = AnchorSpec(**json.loads(spec_json))
    build = duckdb_anchor if spec.variant == "duckdb-anchor" else postgresql_anchor
    print(json.dumps({"phases": build(spec)}))
    return 0


# --------------------------------------------------------------------------- the report


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def seconds_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / MIB:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def load_range(runs: list[Run]) -> str:
    loads = [r.load for r in runs if r.load is not None]
    return f"{min(loads):.2f} to {max(loads):.2f}" if loads else "n/a"


def summary(runs: list[Run], variants: list[str]) -> dict[str, dict[str, Any]]:
    """Per variant: medians over the runs that succeeded."""
    table: dict[str, dict[str, Any]] = {}
    for variant in variants:
        mine = [r for r in runs if r.variant == variant]
        good = [r for r in mine if r.ok]
        phases = list(dict.fromkeys(p for r in good for p in r.phases))
        table[variant] = {
            "runs": len(mine),
            "ok": len(good),
            "wall": median([r.wall for r in good]),
            "cpu": median([r.cpu for r in good]),
            "rss": median([r.rss for r in good]),
            "load": load_range(mine),
            "phases": {p: median([r.phases[p] for r in good if p in r.phases]) for p in phases},
            "counts": good[-1].counts if good else {},
        }
    return table


def summary_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| variant | runs ok | median wall s | median CPU s (client) | median peak RSS MiB "
        "| load avg before runs |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for variant, s in table.items():
        lines.append(
            f"| {variant} | {s['ok']}/{s['runs']} | {seconds_text(s['wall'])} | "
            f"{seconds_text(s['cpu'])} | {mib(s['rss'])} | {s['load']} |"
        )
    return lines


def ratio_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| engine | wall project/anchor | peak RSS project/anchor |",
        "| --- | ---: | ---: |",
    ]
    for engine in ENGINES:
        project, anchor = table.get(f"{engine}-project"), table.get(f"{engine}-anchor")
        if project and anchor:
            lines.append(
                f"| {engine} | {ratio(project['wall'], anchor['wall'])} | "
                f"{ratio(project['rss'], anchor['rss'])} |"
            )
    return lines


def phase_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| variant | median seconds of each phase (inside the child) |", "| --- | --- |"]
    for variant, s in table.items():
        shown = ", ".join(f"{p} {v:.2f}" for p, v in s["phases"].items() if v is not None)
        lines.append(f"| {variant} | {shown or 'n/a'} |")
    return lines


def count_lines(table: dict[str, dict[str, Any]], runs: list[Run]) -> list[str]:
    lines = [
        "| variant | " + " | ".join(STAR) + " | same counts in every round |",
        "| --- |" + " ---: |" * len(STAR) + " --- |",
    ]
    for variant, s in table.items():
        seen = {tuple(sorted(r.counts.items())) for r in runs if r.variant == variant and r.ok}
        cells = " | ".join(f"{s['counts'][t]:,}" if t in s["counts"] else "n/a" for t in STAR)
        lines.append(f"| {variant} | {cells} | {'yes' if len(seen) == 1 else 'no'} |")
    return lines


def runs_lines(runs: list[Run]) -> list[str]:
    lines = [
        "| round | variant | wall s | CPU s | peak RSS MiB | load avg before | outcome |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in runs:
        load = "n/a" if r.load is None else f"{r.load:.2f}"
        outcome = "ok" if r.ok else stage.one_line(r.error)
        lines.append(
            f"| {r.round} | {r.variant} | {r.wall:.2f} | {r.cpu:.2f} | {mib(r.rss)} | {load} | "
            f"{outcome} |"
        )
    return lines


def count_mismatches(table: dict[str, dict[str, Any]]) -> list[str]:
    """Star tables whose row count differs between an engine's project and anchor."""
    problems = []
    for engine in ENGINES:
        project = table.get(f"{engine}-project", {}).get("counts")
        anchor = table.get(f"{engine}-anchor", {}).get("counts")
        if project and anchor:
            problems += [
                f"{engine} {t}: project {project[t]:,}, anchor {anchor[t]:,}"
                for t in STAR
                if project.get(t) != anchor.get(t)
            ]
    return problems


def versions(args: argparse.Namespace, variants: list[str]) -> str:
    import duckdb

    parts = [f"Python {platform.python_version()}", f"duckdb {duckdb.__version__}"]
    parts += [f"{p} {stage.version_of(p)}" for p in ("SQLAlchemy", "psycopg", "duckdb-engine")]
    if any(v.startswith("postgresql") for v in variants):
        parts.append(f"PostgreSQL server {pg_server_version(args.pg_url)}")
    return ", ".join(parts)


def pg_server_version(admin_url: str) -> str:
    try:
        import sqlalchemy as sa

        admin = sa.create_engine(admin_url)
        try:
            with admin.connect() as connection:
                return str(connection.execute(sa.text("SHOW server_version")).scalar_one())
        finally:
            admin.dispose()
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"


def header_lines(
    title: str, args: argparse.Namespace, data: stage.DataSet, started: dt.datetime, where: str
) -> list[str]:
    machine = stage.machine_facts()
    load = os.getloadavg()
    how = (
        f"reused (generated in {data.generate_seconds:.1f} s at {data.generated_at})"
        if data.reused
        else f"generated in {data.generate_seconds:.1f} s"
    )
    size = sum(p.stat().st_size for p in data.folder.rglob("*.json") if p.is_file())
    return [
        f"## {started:%Y-%m-%d %H:%M} UTC — {title}: {data.events:,} events, "
        f"{data.songs:,} songs, seed {data.seed}",
        "",
        f"- command: `{shlex.join(sys.orig_argv)}`",
        f"- commit: {stage.git_commit()}; sparkify_dw imported from `{where}`",
        f"- machine: {machine['cpus']}, {machine['ram']} RAM, {machine['os']}; load average "
        f"(1/5/15 min) when the section was written: {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f}",
        f"- versions: {versions(args, args.variant_list)}",
        f"- data: `{data.folder}`, {size / MIB:,.0f} MiB of JSON, {how}",
        f"- peak RSS and CPU measured by {MEASURED_BY}; wall time by this script\n"
        f"- DuckDB anchor: songs read by `{args.song_reader}`, memory_limit {args.memory_limit}; "
        f"PostgreSQL anchor: raw column `{args.pg_raw}`",
        "",
    ]


def render_bench(
    args: argparse.Namespace,
    data: stage.DataSet,
    started: dt.datetime,
    where: str,
    runs: list[Run],
) -> str:
    table = summary(runs, args.variant_list)
    parts = header_lines(f"{RESULTS_TITLE}, {args.rounds} round(s)", args, data, started, where)
    parts += [*summary_lines(table), "", *ratio_lines(table), "", *phase_lines(table), ""]
    parts += [*count_lines(table, runs), ""]
    problems = count_mismatches(table)
    if problems:
        parts += [f"**Row counts differ**: {'; '.join(problems)}", ""]
    parts += ["Every run, in the order they ran:", "", *runs_lines(runs), ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------- the modes


def benchmark(
    args: argparse.Namespace, data: stage.DataSet, where: str, started: dt.datetime
) -> tuple[str, bool]:
    runs: list[Run] = []
    for number in range(1, args.rounds + 1):
        for variant in args.variant_list:
            print(f"Round {number}/{args.rounds}: {variant} …", file=sys.stderr)
            run, _, close = run_variant(variant, number, data, args)
            close()
            runs.append(run)
            shown = f"{run.wall:.2f} s, {mib(run.rss)} MiB" if run.ok else run.error
            print(f"  {shown} (load average before {run.load})", file=sys.stderr)
    section = render_bench(args, data, started, where, runs)
    return section, all(r.ok for r in runs) and not count_mismatches(
        summary(runs, args.variant_list)
    )


def compare_lines(
    rows: dict[str, dict[str, Counter[tuple[Any, ...]]]], pairs: list[tuple[str, str]]
) -> tuple[list[str], bool]:
    lines = [
        "| compared | table | rows (first) | rows (second) | only in first | only in second "
        "| checksum first | checksum second |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    same = True
    for a, b in pairs:
        for t in STAR:
            first, second = rows[a][t], rows[b][t]
            only_a, only_b = first - second, second - first
            same = same and not only_a and not only_b
            lines.append(
                f"| {a} vs {b} | {t} | {first.total():,} | {second.total():,} | "
                f"{only_a.total():,} | {only_b.total():,} | `{checksum(first)}` | "
                f"`{checksum(second)}` |"
            )
            for label, extra in ((a, only_a), (b, only_b)):
                for row in list(extra)[:3]:
                    print(f"  only in {label}.{t}: {row}", file=sys.stderr)
    return lines, same


def verify(
    args: argparse.Namespace, data: stage.DataSet, where: str, started: dt.datetime
) -> tuple[str, bool]:
    """Build every variant once, keep the databases, compare their star tables row by row."""
    rows: dict[str, dict[str, Counter[tuple[Any, ...]]]] = {}
    runs: list[Run] = []
    with contextlib.ExitStack() as stack:
        for variant in args.variant_list:
            print(f"Building {variant} …", file=sys.stderr)
            run, target, close = run_variant(variant, 1, data, args)
            stack.callback(close)
            runs.append(run)
            if run.ok and target is not None:
                rows[variant] = star_rows(target)
            else:
                print(f"  {variant} failed: {run.error}", file=sys.stderr)
    built = [v for v in args.variant_list if v in rows]
    pairs = [
        (f"{e}-project", f"{e}-anchor")
        for e in ENGINES
        if f"{e}-project" in built and f"{e}-anchor" in built
    ]
    pairs += [  # and across engines: both projects, both anchors
        (f"duckdb-{k}", f"postgresql-{k}")
        for k in KINDS
        if f"duckdb-{k}" in built and f"postgresql-{k}" in built
    ]
    lines, same = compare_lines(rows, pairs)
    matched = ", ".join(  # songplays with a catalogue song: the song match is exercised
        f"{v} {sum(n for row, n in rows[v]['songplays'].items() if row[3] is not None):,}"
        for v in built
    )
    complete = same and len(built) == len(args.variant_list)
    verdict = "the tables agree" if complete else "DIFFERENCES or failures: see above"
    parts = header_lines(f"{RESULTS_TITLE}, verification", args, data, started, where)
    parts += [
        "Each anchor's star tables against the project's (contract columns: songplay_id and "
        'users.source_ts left out), as multisets of rows: "only in" counts rows one side has '
        "and the other lacks (EXCEPT ALL both ways); the checksum is sha256 of the sorted rows.",
        "",
        *lines,
        "",
        f"Songplays matched to a catalogue song (song_id not NULL): {matched}.",
        "",
        f"Verdict: {verdict}.",
        "",
        *runs_lines(runs),
        "",
    ]
    return "\n".join(parts), complete and all(r.ok for r in runs)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    started = stage.utc_now()
    owned = args.data is None
    folder = args.data or stage.default_data_dir(args.songs, args.events, args.seed)
    data = stage.ensure_data(folder.resolve(), args.songs, args.events, args.seed, owned)
    where = imported_from()
    print(f"Children import sparkify_dw from {where}", file=sys.stderr)
    mode = verify if args.verify else benchmark
    section, ok = mode(args, data, where, started)
    stage.append_results(args.out, section)
    print(section)
    print(f"Appended to {args.out}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
