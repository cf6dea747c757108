"""Staging benchmark: how fast `sparkify_dw.load` stages and merges a large synthetic data set.

What it measures, per engine (DuckDB and PostgreSQL), on data written by
`sparkify_dw.datagen.generate`:

- seconds of the `stage` step (both COPYs) and of each COPY on its own, and the rows per second
  each COPY stages: the cost of the COPY emulation (jsonread.py, convert.py, copy.py, bulk.py);
- seconds of each star step (the INSERT … SELECT merges), and of the whole load;
- peak resident memory of the process that ran the load: staging streams in batches of
  `copy.DEFAULT_BATCH_ROWS` rows, so the peak should not grow with the input.

Each engine runs in a fresh subprocess, so its peak RSS is its own and not the parent's or the
previous engine's. The results are appended to `benchmarks/results.md` as a dated section.
`--profile` runs the DuckDB stage under cProfile instead and prints the hot spots.

It is a script, not a test: it takes minutes at full size, its figures depend on the machine,
and there is nothing to assert except trends a person reads. The test suite never imports it.

    .venv/bin/python benchmarks/stage.py --events 1000000 --songs 20000 --engines duckdb,postgresql
    .venv/bin/python benchmarks/stage.py --events 200000 --profile
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results.md"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ENGINES = ("duckdb", "postgresql")
MARKER = ".sparkify-bench.json"  # in the data folder: what was generated there, and how fast
MARKER_FORMAT = 1
GENERATED = ("song_data", "log_data", "log_json_path.json")  # what generate() writes
PROFILE_TOP = 25
WRAPPED = "copy_into"  # the function loader.stage() calls per COPY; wrapped to time each COPY
RSS_INTERVAL = 0.05  # seconds between RSS samples in the child
MIB = 1024 * 1024
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
RESULTS_HEADER = """# Staging benchmark results

Appended by `benchmarks/stage.py`, newest last; earlier sections are kept for comparison.
What each figure means: `benchmarks/README.md`.
"""


# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark sparkify_dw's staging (COPY emulation) and star merge.",
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--songs", type=int, default=20_000, help="song files to generate")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        help="comma-separated engines to run: duckdb, postgresql (default: both)",
    )
    parser.add_argument(
        "--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL admin URL (creates/drops databases)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="data folder (default: one per size and seed under the system temp folder)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file to append to")
    parser.add_argument(
        "--profile",
        action="store_true",
        help=f"profile the DuckDB stage with cProfile; print the top {PROFILE_TOP}, write nothing",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: the subprocess's spec
    args = parser.parse_args(argv)
    if args.child is None:
        args.engine_list = parse_engines(parser, args.engines)
    return args


def parse_engines(parser: argparse.ArgumentParser, text: str) -> list[str]:
    engines = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        parser.error(f"--engines takes a list of {', '.join(ENGINES)}; got {text!r}")
    return engines


# --------------------------------------------------------------------------- the data set


@dataclass(frozen=True)
class DataSet:
    folder: Path
    songs: int
    events: int
    seed: int
    generate_seconds: float
    generated_at: str  # UTC, ISO 8601
    reused: bool

    @property
    def song_data(self) -> str:
        return str(self.folder / "song_data")

    @property
    def log_data(self) -> str:
        return str(self.folder / "log_data")

    @property
    def log_jsonpath(self) -> str:
        return str(self.folder / "log_json_path.json")


def default_data_dir(songs: int, events: int, seed: int) -> Path:
    name = f"songs{songs}-events{events}-seed{seed}"
    return Path(tempfile.gettempdir()) / "sparkify-bench" / name


def read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        marker: dict[str, Any] = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker


def marker_matches(marker: dict[str, Any] | None, songs: int, events: int, seed: int) -> bool:
    return marker is not None and (
        marker.get("format"),
        marker.get("songs"),
        marker.get("events"),
        marker.get("seed"),
    ) == (MARKER_FORMAT, songs, events, seed)


def clear_generated(folder: Path, owned: bool) -> None:
    """Remove an earlier (other size, or interrupted) data set; only what generate() writes.

    A folder the user named that holds anything but our own marked data set is left alone.
    """
    if not folder.exists():
        return
    if not owned and read_marker(folder) is None and any(folder.iterdir()):
        raise SystemExit(
            f"{folder} is not empty and holds no {MARKER}: not a benchmark data folder. "
            "Name an empty or new folder with --data."
        )
    for name in (*GENERATED, MARKER):
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def ensure_data(folder: Path, songs: int, events: int, seed: int, owned: bool) -> DataSet:
    """The data set of this size and seed in `folder`: reused when the marker says so."""
    marker = read_marker(folder)
    if marker_matches(marker, songs, events, seed):
        assert marker is not None
        print(f"Reusing the data set in {folder}", file=sys.stderr)
        return DataSet(
            folder, songs, events, seed, marker["generate_seconds"], marker["generated_at"], True
        )
    clear_generated(folder, owned)
    return generate_data(folder, songs, events, seed)


def generate_data(folder: Path, songs: int, events: int, seed: int) -> DataSet:
    from sparkify_dw.datagen import generate

    print(f"Generating {events:,} events and {songs:,} songs in {folder} …", file=sys.stderr)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    generate(folder, songs=songs, events=events, seed=seed)
    seconds = time.perf_counter() - start
    data = DataSet(folder, songs, events, seed, seconds, utc_now().isoformat(), False)
    marker = {
        "format": MARKER_FORMAT,
        "songs": songs,
        "events": events,
        "seed": seed,
        "generate_seconds": seconds,
        "generated_at": data.generated_at,
    }
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return data


# --------------------------------------------------------------------------- databases


@contextlib.contextmanager
def fresh_database(engine: str, pg_url: str) -> Iterator[str]:
    """The URL of a new, empty database for one run; removed afterwards, even on failure."""
    if engine == "duckdb":
        with tempfile.TemporaryDirectory(prefix="sparkify-bench-") as folder:
            yield f"duckdb:///{Path(folder) / 'bench.duckdb'}"
    else:
        with postgres_database(pg_url) as url:
            yield url


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """CREATE DATABASE sparkify_bench_<random> through the admin URL; DROP it afterwards."""
    import sqlalchemy as sa

    name = f"sparkify_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --------------------------------------------------------------------------- the parent


@dataclass(frozen=True)
class ChildSpec:
    mode: str  # "load" or "profile"
    url: str
    song_data: str
    log_data: str
    log_jsonpath: str


def run_child(spec: ChildSpec) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its last stdout line is a JSON object."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(asdict(spec))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.stderr:
        sys.stderr.write(done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "error": f"exit code {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def measure_engines(engines: list[str], pg_url: str, data: DataSet) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for engine in engines:
        print(f"Loading into {engine} …", file=sys.stderr)
        try:
            with fresh_database(engine, pg_url) as url:
                spec = ChildSpec("load", url, data.song_data, data.log_data, data.log_jsonpath)
                load_before = load_average()
                results[engine] = {**run_child(spec), "load_average": load_before}
        except Exception as exc:  # a database that cannot be created: report it, go on
            results[engine] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        outcome = results[engine]
        summary = f"{outcome['wall_seconds']:.1f} s" if outcome["ok"] else outcome["error"]
        print(f"  {engine}: {summary}", file=sys.stderr)
    return results


def load_average() -> float | None:
    """The machine's 1-minute load average: other work on it makes the timings noisy."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def profile_duckdb(data: DataSet) -> int:
    with fresh_database("duckdb", DEFAULT_PG_URL) as url:
        spec = ChildSpec("profile", url, data.song_data, data.log_data, data.log_jsonpath)
        result = run_child(spec)
    if not result["ok"]:
        print(f"Profile failed: {result['error']}", file=sys.stderr)
        return 1
    print(result["profile"])
    return 0


# --------------------------------------------------------------------------- the child


class RssSampler:
    """Samples this process's resident memory in a background thread; keeps the peak."""

    def __init__(self, interval: float = RSS_INTERVAL) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.sample()

    def sample(self) -> int:
        rss = current_rss()
        self.peak = max(self.peak, rss)
        return rss

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


def current_rss() -> int:
    """Resident bytes now (Linux /proc); 0 where /proc is missing."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far (not a database server's)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def max_rss() -> int:
    """Peak resident bytes of this process over its whole life (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@dataclass
class CopyTiming:
    table: str
    seconds: float
    rss_peak: int  # sampled peak RSS when this COPY ended


@contextlib.contextmanager
def timed_copies(sampler: RssSampler) -> Iterator[list[CopyTiming]]:
    """Time each COPY that loader.stage() runs, by wrapping the copy_into it calls.

    The wrapper only measures and delegates; if the loader stops calling `copy_into` through
    its module global, the list stays empty and the report falls back to the stage step.
    """
    from sparkify_dw import loader

    timings: list[CopyTiming] = []
    original: Callable[..., Any] = getattr(loader, WRAPPED)

    def timed(connection: Any, table: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = original(connection, table, *args, **kwargs)
        seconds = time.perf_counter() - start
        sampler.sample()
        timings.append(CopyTiming(table.name, seconds, sampler.peak))
        return result

    setattr(loader, WRAPPED, timed)
    try:
        yield timings
    finally:
        setattr(loader, WRAPPED, original)


def engine_facts(engine: Any) -> dict[str, str]:
    """The server version, and for DuckDB its threads and memory limit."""
    from sqlalchemy import text

    with engine.connect() as connection:
        if engine.dialect.name == "duckdb":
            row = connection.execute(
                text(
                    "SELECT version(), current_setting('threads'), current_setting('memory_limit')"
                )
            ).one()
            return {"server": f"DuckDB {row[0]}", "threads": str(row[1]), "memory_limit": row[2]}
        version = connection.execute(text("SHOW server_version")).scalar_one()
        return {"server": f"PostgreSQL {version}"}


def measure_load(spec: ChildSpec) -> dict[str, Any]:
    """One load into an empty database, with per-step and per-COPY times and memory."""
    import sparkify_dw

    engine = sparkify_dw.make_engine(spec.url)
    try:
        facts = engine_facts(engine)
        sampler = RssSampler().start()
        baseline = sampler.peak
        with timed_copies(sampler) as copies:
            cpu, start = cpu_seconds(), time.perf_counter()
            report = sparkify_dw.load(
                engine,
                song_data=spec.song_data,
                log_data=spec.log_data,
                log_jsonpath=spec.log_jsonpath,
            )
            wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        sampler.stop()
    finally:
        engine.dispose()
    summary = load_summary(report, copies, wall, facts, baseline, sampler.peak)
    return {**summary, "cpu_seconds": cpu}


def load_summary(
    report: Any,
    timings: list[CopyTiming],
    wall: float,
    facts: dict[str, str],
    baseline: int,
    sampled_peak: int,
) -> dict[str, Any]:
    """The child's JSON line: what the LoadReport says, plus the COPY times and memory."""
    seconds = {t.table: t.seconds for t in timings}
    steps = [[s.name, s.seconds] for s in report.steps]
    return {
        "ok": True,
        "engine": report.database.split(":", 1)[0],
        "facts": facts,
        "steps": steps,
        "stage_seconds": sum(s for n, s in steps if n == "stage"),
        "star_seconds": sum(s for n, s in steps if n not in ("migrate", "stage")),
        "steps_seconds": report.seconds,
        "wall_seconds": wall,
        "copies": [
            {
                "table": c.table,
                "files": len(c.files),
                "rows": c.rows,
                "rejects": len(c.rejects),
                "seconds": seconds.get(c.table),
            }
            for c in report.copies
        ],
        "tables": {t.table: t.after for t in report.tables},
        "rss_baseline": baseline,
        "rss_stage_peak": max((t.rss_peak for t in timings), default=None),
        "rss_sampled_peak": sampled_peak,
        "rss_peak": max(max_rss(), sampled_peak),
    }


def profile_stage(spec: ChildSpec) -> dict[str, Any]:
    """cProfile of loader.stage() alone (after migrating), top functions by cumulative time."""
    import sparkify_dw

    engine = sparkify_dw.make_engine(spec.url)
    profiler = cProfile.Profile()
    try:
        with engine.begin() as connection:
            sparkify_dw.upgrade(connection)
        with engine.begin() as connection:
            start = time.perf_counter()
            profiler.enable()
            sparkify_dw.stage(
                connection,
                sparkify_dw.StageOptions(
                    song_data=spec.song_data,
                    log_data=spec.log_data,
                    log_jsonpath=spec.log_jsonpath,
                ),
            )
            profiler.disable()
            seconds = time.perf_counter() - start
    finally:
        engine.dispose()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(PROFILE_TOP)
    text.write(f"The same profile, top {PROFILE_TOP} by own time (tottime):\n")
    stats.sort_stats(pstats.SortKey.TIME).print_stats(PROFILE_TOP)
    header = f"DuckDB stage under cProfile: {seconds:.1f} s (profiling slows it down)\n"
    return {"ok": True, "profile": header + text.getvalue()}


def child_main(spec_json: str) -> int:
    spec = ChildSpec(**json.loads(spec_json))
    result = measure_load(spec) if spec.mode == "load" else profile_stage(spec)
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- the report


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def meminfo_total() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """HEAD and whether the tree differs from it; read-only (no optional index locks)."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, env=env, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def machine_facts() -> dict[str, str]:
    return {
        "cpus": f"{os.cpu_count()} x {cpu_model()}",
        "ram": meminfo_total(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": ", ".join(
            f"{name} {version_of(name)}"
            for name in ("duckdb", "duckdb-engine", "SQLAlchemy", "psycopg", "pyarrow")
        ),
    }


def one_line(text: str) -> str:
    """The first line of a message, safe inside a Markdown table cell."""
    return (text.strip().splitlines() or [""])[0].replace("|", "\\|")


def load_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def rate(rows: int, seconds: float | None) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "n/a"


def mib(value: int | None) -> str:
    return f"{value / MIB:,.0f}" if value else "n/a"


def copy_of(result: dict[str, Any], table: str) -> dict[str, Any]:
    return next(c for c in result["copies"] if c["table"] == table)


def summary_table(results: dict[str, dict[str, Any]], data: DataSet) -> list[str]:
    lines = [
        "| engine | events | song files | stage s | events rows/s | songs rows/s | "
        "staged rows/s (both) | star s | total s | peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for engine, r in results.items():
        if not r["ok"]:
            failed = one_line(r["error"])
            lines.append(f"| {engine} | {data.events:,} | {data.songs:,} | failed: {failed} |")
            continue
        events, songs = copy_of(r, "staging_events"), copy_of(r, "staging_songs")
        lines.append(
            f"| {engine} | {events['rows']:,} | {songs['files']:,} | {r['stage_seconds']:.1f} | "
            f"{rate(events['rows'], events['seconds'])} | {rate(songs['rows'], songs['seconds'])} "
            f"| {rate(events['rows'] + songs['rows'], r['stage_seconds'])} | "
            f"{r['star_seconds']:.1f} | {r['wall_seconds']:.1f} | {mib(r['rss_peak'])} |"
        )
    return lines


def copies_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| engine | COPY into | files | rows | rejects | seconds | rows/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for engine, r in results.items():
        for c in r["copies"] if r["ok"] else []:
            shown = f"{c['seconds']:.1f}" if c["seconds"] is not None else "n/a"
            lines.append(
                f"| {engine} | {c['table']} | {c['files']:,} | {c['rows']:,} | {c['rejects']} | "
                f"{shown} | {rate(c['rows'], c['seconds'])} |"
            )
    return lines


def steps_table(results: dict[str, dict[str, Any]]) -> list[str]:
    ok = {e: r for e, r in results.items() if r["ok"]}
    names = list(dict.fromkeys(n for r in ok.values() for n, _ in r["steps"]))
    lines = [
        "| engine | "
        + " | ".join(names)
        + " | steps sum | load wall | load CPU (this process) | load avg before |",
        "| --- |" + " ---: |" * (len(names) + 4),
    ]
    for engine, r in ok.items():
        seconds = dict(r["steps"])
        cells = [f"{seconds[n]:.2f}" if n in seconds else "n/a" for n in names]
        lines.append(
            f"| {engine} | {' | '.join(cells)} | {r['steps_seconds']:.2f} | "
            f"{r['wall_seconds']:.2f} | {r['cpu_seconds']:.2f} | {load_text(r['load_average'])} |"
        )
    return lines


def memory_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| engine | RSS before load MiB | peak by end of staging MiB | peak overall MiB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for engine, r in results.items():
        if r["ok"]:
            lines.append(
                f"| {engine} | {mib(r['rss_baseline'])} | {mib(r['rss_stage_peak'])} | "
                f"{mib(r['rss_peak'])} |"
            )
    return lines


def render_section(
    results: dict[str, dict[str, Any]], data: DataSet, command: str, started: dt.datetime
) -> str:
    machine = machine_facts()
    servers = "; ".join(
        f"{e}: " + ", ".join(f"{k} {v}" if k != "server" else v for k, v in r["facts"].items())
        for e, r in results.items()
        if r["ok"]
    )
    how = (
        f"reused (generated in {data.generate_seconds:.1f} s at {data.generated_at})"
        if data.reused
        else f"generated in {data.generate_seconds:.1f} s"
    )
    from sparkify_dw.copy.emulation import DEFAULT_BATCH_ROWS

    parts = [
        f"## {started:%Y-%m-%d %H:%M} UTC — {data.events:,} events, {data.songs:,} songs, "
        f"seed {data.seed}",
        "",
        f"- command: `{command}`",
        f"- commit: {git_commit()}; batch rows {DEFAULT_BATCH_ROWS:,}",
        f"- machine: {machine['cpus']}, {machine['ram']} RAM, {machine['os']}",
        f"- Python {machine['python']}; {machine['packages']}",
        f"- engines: {servers or 'none ran'}",
        f"- data: `{data.folder}`, {how}",
        "",
        *summary_table(results, data),
        "",
    ]
    if any(r["ok"] for r in results.values()):
        for table in (copies_table(results), steps_table(results), memory_table(results)):
            parts += [*table, ""]
    return "\n".join(parts)


def append_results(path: Path, section: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    path.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    started = utc_now()
    command = shlex.join(sys.orig_argv)
    owned = args.data is None
    folder = args.data or default_data_dir(args.songs, args.events, args.seed)
    data = ensure_data(folder.resolve(), args.songs, args.events, args.seed, owned)
    if args.profile:
        return profile_duckdb(data)
    results = measure_engines(args.engine_list, args.pg_url, data)
    section = render_section(results, data, command, started)
    append_results(args.out, section)
    print(section)
    print(f"Appended to {args.out}", file=sys.stderr)
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
