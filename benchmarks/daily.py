"""Daily load: one more day into a built warehouse against the same day into an empty one.

Issue 17, part 4 ("costs that follow the new data"). On data written by
`sparkify_dw.datagen.generate` (cached as `stage.py` caches it), the script

1. builds a warehouse from the whole month (`sparkify-dw run`, once, not timed): a DuckDB
   file, and a PostgreSQL database it creates (and drops at the end);
2. writes one more day of events (`--day-events`, by default a thirtieth of `--events`) with
   the generator's own state carried on past the month: the same users, songs and popularity,
   session ids continuing, the day after the month's last (the day's file for November 2018 is
   `2018/12/2018-12-01-events.json`). It is put into the same log folder as the month's files
   (hard links of the cached files, so their size and modification time are those the ledger
   recorded at the build), and alone into a folder of its own;
3. measures, round after round, alternately:
   - `daily`: a copy of the built warehouse (DuckDB: the file copied; PostgreSQL:
     `CREATE DATABASE … TEMPLATE`), then the full `sparkify-dw run --format json` over the same
     song folder and the log folder with the new day: the ledger must skip every song file and
     every month file and stage only the day's;
   - `alone`: an empty warehouse, then the same command over the same song folder and the
     folder that holds only the day's file (the day loaded with the song catalogue);
   - `alone-cat`: the same as `alone`, into a copy of a warehouse that holds only the song
     catalogue (built once, untimed, with an empty log file): its ledger skips every song file
     as `daily`'s does, so it differs from `daily` only in the month already in the warehouse;
4. after each measured run, times `sparkify-dw check` on the result (a separate process, not
   part of the figures of the run) to tell how much of the run's time its checks are.

On PostgreSQL the built warehouses are VACUUM ANALYZEd before the rounds (as autovacuum would
have done in the day between two loads; `--no-vacuum`: not).
The run is started with `-v --log-format json`: its log lines' stamps split its wall time into
start (interpreter, imports), load, checks and end (report, exit).
The run's JSON report gives each step's seconds (`steps`) and what the ledger skipped
(`sources`): the script checks the skip counts against what the variant should skip.
`--explain` also runs the PostgreSQL daily load once more with `auto_explain` (ANALYZE,
BUFFERS, nested statements, over `--explain-ms`) and keeps the plans it logged.
Figures are printed as tables and appended to `benchmarks/results.md`; what they mean:
benchmarks/README.md.

    PYTHONPATH=. .venv/bin/python benchmarks/daily.py                     # 1M events, 3 rounds
    PYTHONPATH=. .venv/bin/python benchmarks/daily.py --events 200000 --songs 5000
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import datetime as dt
import json
import os
import random
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import anchors  # noqa: E402  (measured children, the environment, versions)
import stage  # noqa: E402  (benchmarks/stage.py: the cached data set, databases, machine facts)

DEFAULT_OUT = HERE / "results.md"
ENGINES = ("duckdb", "postgresql")
VARIANTS = ("daily", "alone", "alone-cat")
# daily: the month's warehouse + the day; alone: empty warehouse, the song files + the day;
# alone-cat: a warehouse holding only the song catalogue (loaded before, untimed) + the day
MIB = 1024 * 1024
YEAR, MONTH = 2018, 11  # generate()'s defaults, which stage.py uses
STAR = ("songplays", "users", "songs", "artists", "time")
RESULTS_TITLE = "Daily load"
DASH = "\u2013"  # a missing figure
AUTO_EXPLAIN = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_timing": "on",
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events of the month")
    parser.add_argument("--songs", type=int, default=20_000, help="song files")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--day-events", type=int, default=None, help="default: events // 30")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--pg-url", default=stage.DEFAULT_PG_URL, help="admin URL")
    parser.add_argument("--data", type=Path, default=None, help="the cached data set's folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file (appended)")
    parser.add_argument("--no-out", action="store_true", help="print only, append nothing")
    parser.add_argument("--no-check-timing", action="store_true", help="skip `check` timings")
    parser.add_argument(
        "--build-memory-limit",
        default=None,
        help="DuckDB: memory_limit of the two untimed builds only (e.g. 2GB)",
    )
    parser.add_argument(
        "--no-vacuum", action="store_true", help="PostgreSQL: no VACUUM ANALYZE after the builds"
    )
    parser.add_argument("--explain", action="store_true", help="PostgreSQL: auto_explain run")
    parser.add_argument("--explain-ms", type=int, default=500, help="auto_explain threshold")
    args = parser.parse_args(argv)
    args.engine_list = stage.parse_engines(parser, args.engines)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.day_events is None:
        args.day_events = max(1, args.events // 30)
    return args


# --------------------------------------------------------------------------- the extra day


def day_after(data: stage.DataSet, day_events: int) -> tuple[str, list[str], bool]:
    """The lines of the day after the month, from the generator's state after writing it.

    Replays `generate()` (same seed, same calls on its random generator, nothing written) to
    the end of the month, then asks for one more day. Returns the file's path under the log
    folder, its lines, and whether the replayed last day of the month equals the cached file
    (the replay is the generator's own state only if it does)."""
    from sparkify_dw import datagen

    rng = random.Random(data.seed)
    catalogue = datagen._catalogue(rng, data.songs)
    log = datagen._EventLog(rng, catalogue, data.events, YEAR, MONTH)
    days = calendar.monthrange(YEAR, MONTH)[1]  # as _EventLog.write, without the files
    cum = list(accumulate(rng.uniform(0.7, 1.3) for _ in range(days)))
    bounds = [0, *(round(data.events * c / cum[-1]) for c in cum)]
    rows: list[Any] = []
    for day in range(1, days + 1):
        rows = log._day(day, bounds[day] - bounds[day - 1])
    rows.sort(key=itemgetter(0))
    last = Path(data.log_data) / f"{YEAR:04d}" / f"{MONTH:02d}"
    last_file = last / f"{YEAR:04d}-{MONTH:02d}-{days:02d}-events.json"
    same = last_file.read_text(encoding="ascii") == "\n".join(datagen._line(*r) for r in rows)
    rows = log._day(days + 1, day_events)  # day_start = month start + days: the next day
    rows.sort(key=itemgetter(0))
    start = dt.datetime(YEAR, MONTH, 1, tzinfo=dt.UTC) + dt.timedelta(days=days)
    name = f"{start:%Y}/{start:%m}/{start:%Y-%m-%d}-events.json"
    return name, [datagen._line(*r) for r in rows], same


@dataclass(frozen=True)
class Sources:
    song_data: str
    month_logs: str  # the month's files, and the new day's once `add_day` ran
    day_logs: str  # the new day's file only
    log_jsonpath: str
    day_file: str  # relative to either log folder
    day_events: int
    replay_ok: bool


def prepare_sources(data: stage.DataSet, work: Path, day_events: int) -> Sources:
    """The month's logs as hard links in a folder of their own (the cache stays untouched),
    and the new day written into a second folder; `add_day` links it into the first."""
    month = work / "log_data"
    for path in sorted(Path(data.log_data).rglob("*.json")):
        target = month / path.relative_to(data.log_data)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)  # same inode: same size and mtime as at the build
    name, lines, same = day_after(data, day_events)
    day = work / "day_only" / name
    day.parent.mkdir(parents=True, exist_ok=True)
    day.write_text("\n".join(lines), encoding="ascii")
    return Sources(
        data.song_data, str(month), str(work / "day_only"), data.log_jsonpath, name, len(lines),
        same,
    )  # fmt: skip


def add_day(sources: Sources) -> None:
    target = Path(sources.month_logs) / sources.day_file
    target.parent.mkdir(parents=True, exist_ok=True)
    os.link(Path(sources.day_logs) / sources.day_file, target)


# --------------------------------------------------------------------------- warehouses


class Warehouses:
    """The built warehouse of one engine, and fresh copies of it or empty ones for each run."""

    def __init__(self, engine: str, pg_url: str, work: Path, vacuum: bool = True) -> None:
        self.engine, self.pg_url, self.work, self.vacuum = engine, pg_url, work, vacuum
        self.base = f"sparkify_bench_daily_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []  # PostgreSQL databases to drop at the end

    def url(self, name: str) -> str:
        if self.engine == "duckdb":
            return f"duckdb:///{self.work / (name + '.duckdb')}"
        import sqlalchemy as sa

        return sa.make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def _admin(self, *statements: str) -> None:
        import sqlalchemy as sa

        admin = sa.create_engine(self.pg_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                for statement in statements:
                    connection.execute(sa.text(statement))
        finally:
            admin.dispose()

    def empty(self, name: str) -> str:
        if self.engine == "postgresql":
            self.created.append(name)
            self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def copy_of_base(self, name: str, base: str | None = None) -> str:
        base = base or self.base
        if self.engine == "duckdb":
            shutil.copyfile(self.work / f"{base}.duckdb", self.work / f"{name}.duckdb")
            return self.url(name)
        self.created.append(name)
        for attempt in range(5):  # an autovacuum worker on the template: wait, then again
            try:
                self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{base}" STRATEGY FILE_COPY')
                break
            except Exception:
                if attempt == 4:
                    raise
                time.sleep(2)
        return self.url(name)

    def settle(self, name: str) -> None:
        """PostgreSQL: VACUUM ANALYZE a built warehouse, as autovacuum would in a day."""
        if self.engine == "postgresql" and self.vacuum:
            import psycopg

            with psycopg.connect(pg_dsn(self.url(name)), autocommit=True) as connection:
                connection.execute("VACUUM (ANALYZE)")

    def drop(self, name: str) -> None:
        if self.engine == "duckdb":
            for suffix in (".duckdb", ".duckdb.wal"):
                (self.work / f"{name}{suffix}").unlink(missing_ok=True)
        elif name in self.created:
            self.created.remove(name)
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name in list(self.created):
            with contextlib.suppress(Exception):
                self.drop(name)


def pg_dsn(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def star_counts(engine: str, url: str) -> dict[str, int]:
    if engine == "duckdb":
        import duckdb

        connection: Any = duckdb.connect(url.removeprefix("duckdb:///"), read_only=True)
    else:
        import psycopg

        connection = psycopg.connect(pg_dsn(url))
    try:
        return {
            t: int(connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in STAR
        }
    finally:
        connection.close()


# --------------------------------------------------------------------------- runs


@dataclass
class Run:
    engine: str
    variant: str  # "build", "daily", "alone"
    round: int
    ok: bool = False
    wall: float = 0.0
    cpu: float = 0.0
    rss: int = 0
    load: float | None = None
    load_seconds: float | None = None  # the report's `seconds`: the load itself
    steps: dict[str, float] = field(default_factory=dict)
    sources: dict[str, tuple[int, int]] = field(default_factory=dict)  # table: (staged, skipped)
    checks_ok: bool | None = None
    check_wall: float | None = None  # `sparkify-dw check` afterwards, a process of its own
    counts: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # from the run's log, see below
    error: str = ""

    @property
    def outside(self) -> float | None:
        """Wall time outside the load: interpreter start, imports, the checks, the report."""
        return None if self.load_seconds is None else self.wall - self.load_seconds


def run_command(url: str, song_data: str, log_data: str, jsonpath: str) -> list[str]:
    return [
        sys.executable, "-m", "sparkify_dw", "-v", "--log-format", "json", "run", "--db", url,
        "--song-data", song_data, "--log-data", log_data, "--log-jsonpath", jsonpath,
        "--format", "json",
    ]  # fmt: skip


PHASES = ("start", "load", "checks", "end")


def phases_from_log(stderr: str, began: float, ended: float) -> dict[str, float]:
    """The run's wall time split by its own log lines (`-v --log-format json`, millisecond
    stamps): start = process start to its first line (interpreter, imports, configuration);
    load = to the loader's "done in" line; checks = to the last check's line; end = the rest
    (the report, closing the engine, exit)."""
    first = done = last_check = None
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
            stamp = dt.datetime.fromisoformat(entry["time"]).timestamp()
        except (ValueError, KeyError, TypeError):
            continue
        first = stamp if first is None else first
        if entry.get("logger") == "sparkify_dw.loader" and " done in " in entry.get("message", ""):
            done = stamp
        if entry.get("logger") == "sparkify_dw.checks":
            last_check = stamp
    if first is None or done is None or last_check is None:
        return {}
    return {
        "start": first - began,
        "load": done - first,
        "checks": last_check - done,
        "end": ended - last_check,
    }


def measure_run(run: Run, url: str, log_data: str, src: Sources, work: Path) -> Run:
    run.load = stage.load_average()
    began = time.time()
    usage = anchors.measured(run_command(url, src.song_data, log_data, src.log_jsonpath), str(work))
    run.wall, run.cpu, run.rss = usage.wall, usage.cpu, usage.rss
    run.phases = phases_from_log(usage.stderr, began, began + usage.wall)
    try:
        report = json.loads(usage.stdout)
    except ValueError:
        run.error = f"exit code {usage.code}: {anchors.error_line(usage.stderr or usage.stdout)}"
        sys.stderr.write(usage.stderr[-4000:])
        return run
    run.load_seconds = float(report["seconds"])
    for step in report["steps"]:  # a name may come more than once: sum
        run.steps[step["name"]] = run.steps.get(step["name"], 0.0) + float(step["seconds"])
    for source in report["sources"]:
        staged = source["new"] + len(source["changed"]) + source["again"]
        run.sources[source["table"]] = (staged, source["skipped"])
    run.checks_ok = bool(report["checks"]["ok"])
    run.ok = usage.code == 0 and run.checks_ok
    if usage.code != 0:
        run.error = f"exit code {usage.code}: {anchors.error_line(usage.stderr or usage.stdout)}"
    return run


def time_check(run: Run, url: str, work: Path) -> None:
    command = [sys.executable, "-m", "sparkify_dw", "check", "--db", url, "--format", "json"]
    usage = anchors.measured(command, str(work))
    run.check_wall = usage.wall if usage.code == 0 else None


def expected_sources(variant: str, data: stage.DataSet, month_files: int) -> dict[str, Any]:
    """(staged, skipped) per staging table the variant's ledger should report."""
    if variant == "daily":
        return {"staging_songs": (0, data.songs), "staging_events": (1, month_files)}
    if variant == "alone-cat":
        return {"staging_songs": (0, data.songs), "staging_events": (1, 0)}
    return {"staging_songs": (data.songs, 0), "staging_events": (1, 0)}


# --------------------------------------------------------------------------- auto_explain


def pg_log_file() -> Path | None:
    for path in sorted(Path("/var/log/postgresql").glob("postgresql-*-main.log")):
        return path
    return None


def explain_daily(
    warehouses: Warehouses, src: Sources, work: Path, threshold_ms: int
) -> tuple[Run, str]:
    """One more daily run on a fresh copy with auto_explain on; the plans from the server log."""
    name = f"{warehouses.base}_explain"
    url = warehouses.copy_of_base(name)
    settings = {**AUTO_EXPLAIN, "auto_explain.log_min_duration": f"{threshold_ms}ms"}
    warehouses._admin(*(f"ALTER DATABASE \"{name}\" SET {k} = '{v}'" for k, v in settings.items()))
    log = pg_log_file()
    offset = log.stat().st_size if log else 0
    run = measure_run(Run("postgresql", "daily+auto_explain", 0), url, src.month_logs, src, work)
    warehouses.drop(name)
    if log is None:
        return run, "(no server log found under /var/log/postgresql)"
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode("utf-8", "replace")
    plans = [ln for ln in text.splitlines(keepends=True) if "duration" in ln or ln[:1] in " \t"]
    return run, "".join(plans)


# --------------------------------------------------------------------------- the benchmark


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def quotient(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def sec(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def measure_engine(
    engine: str, args: argparse.Namespace, data: stage.DataSet, src: Sources, work: Path
) -> tuple[list[Run], str]:
    warehouses = Warehouses(engine, args.pg_url, work, vacuum=not args.no_vacuum)
    runs: list[Run] = []
    explain = ""
    month_files = sum(1 for _ in Path(data.log_data).rglob("*.json"))

    def build_url(url: str) -> str:
        if engine == "duckdb" and args.build_memory_limit:
            return f"{url}?memory_limit={args.build_memory_limit}"
        return url

    try:
        print(f"[{engine}] building the month's warehouse …", file=sys.stderr)
        build = Run(engine, "build", 0)
        runs.append(
            measure_run(
                build, build_url(warehouses.empty(warehouses.base)), src.month_logs, src, work
            )
        )
        if not build.ok:
            print(f"[{engine}] the build failed: {build.error}", file=sys.stderr)
            return runs, explain
        warehouses.settle(warehouses.base)
        add_day(src)  # after the build: the ledger holds the month, not the day
        # the catalogue-only warehouse: the song files and one empty log file
        cat_base = f"{warehouses.base}_catalogue"
        no_logs = work / "no_logs"
        no_logs.mkdir(exist_ok=True)
        (no_logs / "empty.json").touch()
        cat_url = build_url(warehouses.empty(cat_base))
        cat = measure_run(Run(engine, "catalogue", 0), cat_url, str(no_logs), src, work)
        cat.ok = cat.load_seconds is not None  # its checks fail: the star tables are empty
        runs.append(cat)
        warehouses.settle(cat_base)
        for number in range(1, args.rounds + 1):
            for variant in VARIANTS:
                name = f"{warehouses.base}_{variant.replace('-', '_')}{number}"
                if variant == "daily":
                    url = warehouses.copy_of_base(name)
                elif variant == "alone-cat":
                    url = warehouses.copy_of_base(name, cat_base)
                else:
                    url = warehouses.empty(name)
                logs = src.month_logs if variant == "daily" else src.day_logs
                run = measure_run(Run(engine, variant, number), url, logs, src, work)
                want = expected_sources(variant, data, month_files)
                if run.ok and run.sources != want:
                    run.ok, run.error = False, f"sources {run.sources}, expected {want}"
                if run.load_seconds is not None:
                    run.counts = star_counts(engine, url)
                    if not args.no_check_timing:
                        time_check(run, url, work)
                warehouses.drop(name)
                runs.append(run)
                print(
                    f"[{engine}] round {number} {variant}: wall {run.wall:.2f} s, load "
                    f"{sec(run.load_seconds)} s, check {sec(run.check_wall)} s"
                    + (f" — FAILED: {run.error}" if not run.ok else ""),
                    file=sys.stderr,
                )
        if args.explain and engine == "postgresql":
            run, explain = explain_daily(warehouses, src, work, args.explain_ms)
            runs.append(run)
    finally:
        warehouses.drop(warehouses.base)
        warehouses.drop(f"{warehouses.base}_catalogue")
        warehouses.close()
    return runs, explain


STEP_ORDER = (
    "migrate", "list sources", "stage", "users", "song_catalogue", "songs", "artists",
    "songplays: songs that arrived", "songplays", "play_keys", "time",
)  # fmt: skip


def tables(runs: list[Run], engines: list[str]) -> list[str]:
    lines = [
        "| engine | variant | runs ok | median wall s | load s (report) | start s | load s (log) "
        "| checks s | end s | `check` alone s | CPU s (client) | peak RSS MiB | load avg |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    ratios = [
        "| engine | baseline | wall daily/baseline | load s daily/baseline | ≤ 1.2x (wall) |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    steps = [
        "| engine | variant | " + " | ".join(STEP_ORDER) + " |",
        "| --- | --- |" + " ---: |" * len(STEP_ORDER),
    ]
    for engine in engines:
        wall: dict[str, float | None] = {}
        load: dict[str, float | None] = {}
        for variant in VARIANTS:
            chosen = [r for r in runs if r.engine == engine and r.variant == variant and r.ok]
            total = sum(1 for r in runs if r.engine == engine and r.variant == variant)
            wall[variant] = median([r.wall for r in chosen])
            load[variant] = median([r.load_seconds for r in chosen])
            avg = [r.load for r in chosen if r.load is not None]
            avg_text = f"{min(avg):.2f} to {max(avg):.2f}" if avg else DASH
            rss = median([float(r.rss) for r in chosen])
            lines.append(
                f"| {engine} | {variant} | {len(chosen)}/{total} | {sec(wall[variant])} | "
                f"{sec(load[variant])} | "
                + "".join(f"{sec(median([r.phases.get(p) for r in chosen]))} | " for p in PHASES)
                + f"{sec(median([r.check_wall for r in chosen]))} | "
                f"{sec(median([r.cpu for r in chosen]))} | "
                f"{DASH if rss is None else f'{rss / MIB:,.0f}'} | {avg_text} |"
            )
            cells = [sec(median([r.steps.get(s) for r in chosen])) for s in STEP_ORDER]
            steps.append(f"| {engine} | {variant} | " + " | ".join(cells) + " |")
        for baseline in ("alone", "alone-cat"):
            rw = quotient(wall["daily"], wall[baseline])
            rl = quotient(load["daily"], load[baseline])
            verdict = DASH if rw is None else ("met" if rw <= 1.2 else "not met")
            ratios.append(
                f"| {engine} | {baseline} | {DASH if rw is None else f'{rw:.2f}x'} | "
                f"{DASH if rl is None else f'{rl:.2f}x'} | {verdict} |"
            )
    return [*lines, "", *ratios, "", "Median seconds of each step of the run's report:", "",
            *steps]  # fmt: skip


def runs_lines(runs: list[Run]) -> list[str]:
    lines = [
        "| engine | round | variant | wall s | load s | check alone s | staged/skipped songs "
        "| staged/skipped log files | songplays | users | time | load avg before | outcome |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in runs:
        songs = "/".join(map(str, r.sources.get("staging_songs", ())))
        logs = "/".join(map(str, r.sources.get("staging_events", ())))
        counts = [
            f"{r.counts[t]:,}" if t in r.counts else DASH for t in ("songplays", "users", "time")
        ]
        lines.append(
            f"| {r.engine} | {r.round} | {r.variant} | {r.wall:.2f} | {sec(r.load_seconds)} | "
            f"{sec(r.check_wall)} | {songs} | {logs} | {' | '.join(counts)} | "
            f"{DASH if r.load is None else f'{r.load:.2f}'} | {'ok' if r.ok else r.error} |"
        )
    return lines


def render(
    args: argparse.Namespace,
    data: stage.DataSet,
    src: Sources,
    runs: list[Run],
    explain: str,
    started: dt.datetime,
    where: str,
    explain_file: Path | None = None,
) -> str:
    machine = stage.machine_facts()
    la = os.getloadavg()
    variants = [f"{e}-project" for e in args.engine_list]
    how = (
        f"reused (generated in {data.generate_seconds:.1f} s at {data.generated_at})"
        if data.reused
        else f"generated in {data.generate_seconds:.1f} s"
    )
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC — {RESULTS_TITLE}, {args.rounds} round(s): "
        f"{data.events:,} events + one day of {src.day_events:,}, {data.songs:,} songs, "
        f"seed {data.seed}",
        "",
        f"- command: `{shlex.join(sys.orig_argv)}`",
        f"- commit: {stage.git_commit()}; sparkify_dw imported from `{where}`",
        f"- machine: {machine['cpus']}, {machine['ram']} RAM, {machine['os']}; load average "
        f"(1/5/15 min) when the section was written: {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}",
        f"- versions: {anchors.versions(argparse.Namespace(pg_url=args.pg_url), variants)}",
        f"- data: `{data.folder}`, {how}; the new day: `{src.day_file}`, {src.day_events:,} "
        f"events, replayed from the generator's state (its replay of the month's last day "
        f"{'equals' if src.replay_ok else '**differs from**'} the cached file)",
        f"- daily: a copy of the built (on PostgreSQL {'not ' if args.no_vacuum else ''}"
        "VACUUM ANALYZEd) month's warehouse, "
        "then `sparkify-dw run --format json` over the same folders with the day added; alone: "
        "the same command into an empty warehouse with the song folder and the day's file alone; "
        "alone-cat: the same, into a copy of a warehouse that holds only the song catalogue "
        "(loaded before with an empty log file, not timed), so its ledger skips every song file "
        "as daily's does",
        f"- wall, peak RSS and CPU of the `run` process ({anchors.MEASURED_BY}); load s = the "
        "report's `seconds`; outside load = wall - load s (start, imports, checks, report); "
        "`check` alone = `sparkify-dw check` run afterwards on the same state, its own process",
        "",
        *tables(runs, args.engine_list),
        "",
        "Every run, in the order they ran (staged/skipped: the report's `sources`):",
        "",
        *runs_lines(runs),
        "",
    ]
    if explain:
        lines += [
            f"auto_explain of one more PostgreSQL daily run (statements over {args.explain_ms} "
            f"ms, ANALYZE, BUFFERS; the whole plans: `{explain_file}`):",
            "",
            *explain_summary(explain),
            "",
        ]
    return "\n".join(lines)


def explain_summary(text: str) -> list[str]:
    """One line per logged plan: its duration, the statement's start, the plan's top nodes."""
    lines: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), "duration: end"]:
        if ("duration:" in line and "plan:" in line) or line == "duration: end":
            if current:
                head = current[0].split("duration:")[1].split("plan:")[0].strip()
                query = next((c for c in current if "Query Text:" in c), "")
                query = query.split("Query Text:")[1].strip()[:90]
                nodes = [c.strip() for c in current if "(cost=" in c][:3]
                lines.append(f"- {head}: `{query} …`")
                lines += [f"  - `{n}`" for n in nodes]
            current = [line]
        elif current:
            current.append(line)
    return lines


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = stage.utc_now()
    folder = args.data or stage.default_data_dir(args.songs, args.events, args.seed)
    data = stage.ensure_data(folder, args.songs, args.events, args.seed, args.data is None)
    where = anchors.imported_from()
    runs: list[Run] = []
    explains: list[str] = []
    root = folder.parent
    with tempfile.TemporaryDirectory(prefix="sparkify-daily-", dir=root) as scratch:
        work = Path(scratch)
        src = prepare_sources(data, work, args.day_events)
        if not src.replay_ok:
            print("warning: the replayed month differs from the cached files", file=sys.stderr)
        # the builds must not see the new day: each engine builds, then the day is added
        for engine in args.engine_list:
            day_path = Path(src.month_logs) / src.day_file
            day_path.unlink(missing_ok=True)
            engine_runs, explain = measure_engine(engine, args, data, src, work)
            runs += engine_runs
            if explain:
                explains.append(explain)
    explain = "\n".join(explains)
    explain_file = None
    if explain:
        explain_file = root / f"daily-explain-{started:%Y%m%dT%H%M%S}.log"
        explain_file.write_text(explain, encoding="utf-8")
        print(f"auto_explain plans: {explain_file}", file=sys.stderr)
    section = render(args, data, src, runs, explain, started, where, explain_file)
    print(section)
    if not args.no_out:
        stage.append_results(args.out, section)
        print(f"Appended to {args.out}", file=sys.stderr)
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
