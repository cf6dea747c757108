"""Staging alone: the project's COPY emulation against dlt's jsonl path, on the same files.

Two variants, each run in a fresh subprocess whose wall time, CPU and peak RSS are measured by
GNU time around it (as `benchmarks/anchors.py` does), alternating round after round on data
written by `sparkify_dw.datagen.generate`:

- `project-stage`: the project's staging and nothing else. The child creates a new DuckDB file,
  migrates it (`upgrade`), then in one transaction runs `copy_into` for the event logs into
  `staging_events` with the JSONPaths file (and/or the song files into `staging_songs`, JSON
  'auto'): Redshift's COPY semantics, reject tracking included. It times the COPYs (the
  staging step) and, apart, the commit.
- `dlt-jsonl`: dlt (pinned below) in a virtual environment of its own,
  `benchmarks/.venv-dlt` (created on first use; dlt is no project dependency). The child runs a
  pipeline into a new DuckDB file whose resource reads the same files with dlt's jsonl reader,
  `filesystem(bucket_url="file://…", file_glob="**/*.json") | read_jsonl()`, and times
  `pipeline.run(…, table_name="staging_events")` (extract, normalize and load). dlt's defaults
  are kept (it normalizes the names, infers the types, adds `_dlt_load_id` and `_dlt_id`,
  writes load packages on disk); only its working folder is a temporary one (a fresh pipeline
  every run, nothing left in ~/.dlt) and its anonymous telemetry is off (no network). With
  `--what songs|both` the song files are read whole by a small transformer instead: some are
  pretty-printed over several lines, which `read_jsonl` cannot parse.

After each run the parent counts the rows in the DuckDB file with the interpreter that wrote it.
The medians, the ratio dlt/project of the staging step's seconds (the issue's target: the
project's staging at least 10x faster than dlt's jsonl path) and every run are printed and
appended to `benchmarks/results.md` as a dated section.

    PYTHONPATH=. .venv/bin/python benchmarks/dlt_stage.py                    # 1M events, 3 rounds
    PYTHONPATH=. .venv/bin/python benchmarks/dlt_stage.py --what both --rounds 1
    PYTHONPATH=. .venv/bin/python benchmarks/dlt_stage.py --data /tmp/sparkify-bench/small
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from sqlalchemy import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import stage  # noqa: E402  (benchmarks/stage.py: data sets, machine facts; stdlib imports only)

DEFAULT_OUT = HERE / "results.md"
DEFAULT_DATA = stage.default_data_dir(20_000, 1_000_000, 1)
DLT_VENV = HERE / ".venv-dlt"
DLT_REQUIREMENT = "dlt[duckdb]==1.31.0"
VARIANTS = ("project-stage", "dlt-jsonl")
WHATS = ("events", "songs", "both")
TABLES: dict[str, tuple[str, ...]] = {
    "events": ("staging_events",),
    "songs": ("staging_songs",),
    "both": ("staging_events", "staging_songs"),
}
FOLDERS = {"staging_events": "log_data", "staging_songs": "song_data"}
DLT_PIPELINE = "dlt_stage"
TARGET_RATIO = 10.0  # the target: dlt's seconds / the project's, at least this
MIB = 1024 * 1024
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
MEASURED_BY = (
    "GNU time (`%M`, `%U`+`%S`) around each child"
    if TIME
    else "`os.wait4` (no GNU time: a peak below this parent's own is hidden by it)"
)


# --------------------------------------------------------------------------- arguments


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The project's staging (COPY emulation) against dlt's jsonl path.",
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"data folder (default: {DEFAULT_DATA})"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds; every variant once a round")
    parser.add_argument(
        "--what", choices=WHATS, default="events", help="what to stage (default: events)"
    )
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"any of {', '.join(VARIANTS)}"
    )
    parser.add_argument(
        "--dlt-python",
        type=Path,
        default=DLT_VENV / "bin" / "python",
        help=f"dlt's interpreter (default: {DLT_VENV.name}, created with {DLT_REQUIREMENT})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file to append to")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: a variant's spec
    parser.add_argument("--inspect", help=argparse.SUPPRESS)  # internal: count rows in a file
    args = parser.parse_args(argv)
    if args.child is None and args.inspect is None:
        args.variant_list = [v.strip() for v in args.variants.split(",") if v.strip()]
        if not args.variant_list or any(v not in VARIANTS for v in args.variant_list):
            parser.error(f"--variants takes {', '.join(VARIANTS)}; got {args.variants!r}")
        if args.rounds < 1:
            parser.error("--rounds must be at least 1")
    return args


# --------------------------------------------------------------------------- the data set


@dataclass(frozen=True)
class Data:
    folder: Path
    events: int | None  # from the generator's marker, when there is one
    songs: int | None
    files: dict[str, int]  # table → JSON files read
    size: dict[str, int]  # table → bytes read

    def location(self, table: str) -> str:
        return str(self.folder / FOLDERS[table])


def json_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.json") if p.is_file()]


def describe_data(folder: Path) -> Data:
    missing = [n for n in (*FOLDERS.values(), "log_json_path.json") if not (folder / n).exists()]
    if missing:
        raise SystemExit(
            f"{folder} lacks {', '.join(missing)}: generate a data set first, e.g. "
            "stage.ensure_data(stage.default_data_dir(songs, events, seed), songs, events, "
            "seed, True)"
        )
    marker = stage.read_marker(folder) or {}
    files = {t: json_files(folder / f) for t, f in FOLDERS.items()}
    return Data(
        folder,
        marker.get("events"),
        marker.get("songs"),
        {t: len(paths) for t, paths in files.items()},
        {t: sum(p.stat().st_size for p in paths) for t, paths in files.items()},
    )


# --------------------------------------------------------------------------- dlt's interpreter


def ensure_dlt_python(python: Path) -> Path:
    """dlt's interpreter: the virtual environment benchmarks/.venv-dlt, created when missing.

    The folder ignores itself (a `.gitignore` of `*`, as `python -m venv` writes from 3.13 on),
    so it never shows as untracked.
    """
    if python.exists():
        return python
    if python != DLT_VENV / "bin" / "python":
        raise SystemExit(f"--dlt-python {python} does not exist")
    commands = [
        ["python3", "-m", "venv", str(DLT_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", DLT_REQUIREMENT],
    ]
    for command in commands:
        print(f"$ {shlex.join(command)}", file=sys.stderr)
        subprocess.run(command, check=True)
    (DLT_VENV / ".gitignore").write_text("*\n", encoding="utf-8")
    return python


def interpreter_versions(python: Path, packages: tuple[str, ...]) -> str:
    """`Python x.y.z, package version, …` as that interpreter sees them."""
    code = (
        "import json, platform, sys\n"
        "from importlib import metadata\n"
        "def v(p):\n"
        "    try:\n"
        "        return metadata.version(p)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        return 'not installed'\n"
        "print(json.dumps([platform.python_version()] + [v(p) for p in sys.argv[1:]]))\n"
    )
    done = subprocess.run(
        [str(python), "-c", code, *packages], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return f"unknown ({stage.one_line(done.stderr or 'no output')})"
    found = json.loads(done.stdout)
    return ", ".join(
        [f"Python {found[0]}", *(f"{p} {v}" for p, v in zip(packages, found[1:], strict=True))]
    )


# --------------------------------------------------------------------------- running a variant


@dataclass(frozen=True)
class Spec:
    variant: str
    tables: tuple[str, ...]
    locations: dict[str, str]  # table → folder of its JSON files
    jsonpaths: str
    database: str  # the new DuckDB file
    workdir: str  # the child's scratch folder (dlt's pipelines folder lives there)


@dataclass
class Run:
    variant: str
    round: int
    ok: bool
    staging: float = 0.0  # seconds of the staging step, timed inside the child
    wall: float = 0.0  # the whole child, timed by this script
    cpu: float = 0.0  # the child's user + system CPU
    rss: int = 0  # the child's peak resident bytes
    load: float | None = None  # 1-minute load average before the run
    phases: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # table → rows the child reported
    counted: dict[str, int] = field(default_factory=dict)  # table → rows in the file afterwards
    details: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Usage:
    code: int
    wall: float
    cpu: float
    rss: int
    stdout: str
    stderr: str


def child_env(variant: str) -> dict[str, str]:
    """The project's child imports this tree's sparkify_dw; dlt's child sends no telemetry."""
    env = dict(os.environ)
    if variant == "project-stage":
        path = env.get("PYTHONPATH", "")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), path) if p)
    else:
        env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    return env


def measured(command: list[str], cwd: str, env: dict[str, str]) -> Usage:
    """Run a command in a fresh process: exit code, wall time, CPU, peak RSS and its output.

    Through GNU time when there is one, for the reason `anchors.measured` gives: `os.wait4` on a
    direct child reports at least this parent's own peak RSS (vfork, then exec, keeps the
    high-water mark).
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as stats,
    ):
        if TIME is not None:
            command = [TIME, "-f", "%x %M %U %S", "-o", stats.name, "--", *command]
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd, env=env)
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


def error_line(text: str) -> str:
    """The last line that names an error, else the last line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    named = [line for line in lines if "Error" in line or "Exception" in line]
    return (named or lines or ["no output"])[-1]


def python_for(variant: str, args: argparse.Namespace) -> str:
    return sys.executable if variant == "project-stage" else str(args.dlt_python)


def run_variant(variant: str, number: int, data: Data, args: argparse.Namespace) -> Run:
    """One run of a variant into a new DuckDB file; the file is counted, then removed."""
    with tempfile.TemporaryDirectory(prefix="sparkify-dlt-stage-") as folder:
        tables = TABLES[args.what]
        spec = Spec(
            variant,
            tables,
            {t: data.location(t) for t in tables},
            str(data.folder / "log_json_path.json"),
            str(Path(folder) / "stage.duckdb"),
            folder,
        )
        python = python_for(variant, args)
        command = [python, str(Path(__file__).resolve()), "--child", json.dumps(asdict(spec))]
        load = stage.load_average()
        usage = measured(command, folder, child_env(variant))
        run = Run(variant, number, usage.code == 0, wall=usage.wall, cpu=usage.cpu)
        run.rss, run.load = usage.rss, load
        if usage.code != 0:
            run.error = f"exit code {usage.code}: {error_line(usage.stderr or usage.stdout)}"
            sys.stderr.write(usage.stderr[-4000:])
            return run
        result = json.loads(usage.stdout.strip().splitlines()[-1])
        run.staging, run.phases = result["seconds"], result["phases"]
        run.rows, run.details = result["rows"], result.get("details", {})
        run.phases["outside the staging step"] = run.wall - run.staging
        inspected = inspect_file(python, spec.database, tables, child_env(variant))
        if "error" in inspected:
            run.ok, run.error = False, f"counting rows: {inspected['error']}"
            return run
        run.counted = {t: inspected["tables"][t]["rows"] for t in tables}
        run.details["columns"] = {t: inspected["tables"][t]["columns"] for t in tables}
        run.details["database_bytes"] = inspected["bytes"]
    return run


def inspect_file(python: str, database: str, tables: tuple[str, ...], env: dict[str, str]) -> Any:
    """Row counts and columns of the tables in a DuckDB file, read by the interpreter (and so
    the DuckDB) that wrote it: dlt's venv may hold another DuckDB than the project's."""
    spec = json.dumps({"database": database, "tables": list(tables)})
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), "--inspect", spec],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        return {"error": error_line(done.stderr or done.stdout)}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the children


def project_child(spec: Spec) -> dict[str, Any]:
    """Migrate a new DuckDB file, then the COPYs in one transaction; the COPYs timed."""
    from sparkify_dw import (
        CopyOptions,
        StagingEvent,
        StagingSong,
        copy_into,
        make_engine,
        upgrade,
    )

    options = {
        "staging_events": CopyOptions(jsonpaths=spec.jsonpaths),
        "staging_songs": CopyOptions(),
    }
    models = {"staging_events": StagingEvent, "staging_songs": StagingSong}
    phases: dict[str, float] = {}
    rows: dict[str, int] = {}
    rejects: dict[str, int] = {}
    engine = make_engine(f"duckdb:///{spec.database}")
    try:
        with engine.connect() as connection:
            start = time.perf_counter()
            with connection.begin():
                upgrade(connection)
            phases["migrate"] = time.perf_counter() - start
            transaction = connection.begin()
            staging = time.perf_counter()
            for table in spec.tables:
                start = time.perf_counter()
                model = cast("Table", models[table].__table__)
                result = copy_into(connection, model, spec.locations[table], options[table])
                phases[f"COPY {table}"] = time.perf_counter() - start
                rows[table], rejects[table] = result.rows, len(result.rejects)
            seconds = time.perf_counter() - staging
            start = time.perf_counter()
            transaction.commit()
            phases["commit"] = time.perf_counter() - start
    finally:
        engine.dispose()
    return {"seconds": seconds, "phases": phases, "rows": rows, "details": {"rejects": rejects}}


def dlt_child(spec: Spec) -> dict[str, Any]:
    """A dlt pipeline into a new DuckDB file reading the files with dlt's jsonl reader;
    `pipeline.run` timed, and the seconds of its steps (extract, normalize, load)."""
    import dlt  # type: ignore[import-not-found]  # in benchmarks/.venv-dlt only
    from dlt.common import json as dlt_json  # type: ignore[import-not-found]
    from dlt.sources.filesystem import filesystem, read_jsonl  # type: ignore[import-not-found]

    pipelines = Path(spec.workdir) / "pipelines"
    pipeline = dlt.pipeline(
        pipeline_name=DLT_PIPELINE,
        destination=dlt.destinations.duckdb(spec.database),
        pipelines_dir=str(pipelines),
    )

    @dlt.transformer(standalone=True)  # type: ignore[untyped-decorator]
    def read_json_documents(items: Any, chunksize: int = 1000) -> Iterator[list[Any]]:
        """Each file one JSON document (read_jsonl's loop, one parse per file, not per line)."""
        chunk: list[Any] = []
        for file_obj in items:
            with file_obj.open() as file:
                chunk.append(dlt_json.loadb(file.read()))
            if len(chunk) >= chunksize:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def reader(table: str) -> Any:
        files = filesystem(bucket_url="file://" + spec.locations[table], file_glob="**/*.json")
        # The song files are one object each, some pretty-printed over several lines, which
        # read_jsonl cannot parse ("unexpected end of data"): the songs are read whole.
        parse = read_jsonl() if table == "staging_events" else read_json_documents()
        return (files | parse).with_name(table)

    start = time.perf_counter()
    if len(spec.tables) == 1:
        pipeline.run(reader(spec.tables[0]), table_name=spec.tables[0])
    else:
        pipeline.run([reader(t) for t in spec.tables])
    seconds = time.perf_counter() - start
    trace = pipeline.last_trace
    phases = {
        step.step: (step.finished_at - step.started_at).total_seconds()
        for step in trace.steps
        if step.finished_at is not None and step.step != "run"  # "run": the three together
    }
    normalized = trace.last_normalize_info.row_counts if trace.last_normalize_info else {}
    written = [p for p in pipelines.rglob("*") if p.is_file()]
    jobs = [p for p in written if p.parent.name == "completed_jobs"]
    # a job file is named <table>.<file id>.<retry>.<format>[.gz]
    formats = sorted({p.name.split(".", 3)[-1] for p in jobs})
    schema = pipeline.default_schema
    return {
        "seconds": seconds,
        "phases": phases,
        "rows": {t: int(normalized.get(t, 0)) for t in spec.tables},
        "details": {
            "dataset": pipeline.dataset_name,
            "dlt_tables": sorted(schema.tables),
            "loader_file_formats": formats,
            "job_files": len(jobs),
            "job_bytes": sum(p.stat().st_size for p in jobs),
            "files_written": len(written),
            "bytes_written": sum(p.stat().st_size for p in written),
            "normalized_rows": dict(normalized),
        },
    }


def inspect_main(spec_json: str) -> int:
    """Print each table's row count and columns (name type) as one JSON line."""
    import duckdb

    spec = json.loads(spec_json)
    found: dict[str, Any] = {}
    with duckdb.connect(spec["database"], read_only=True) as connection:
        for table in spec["tables"]:
            schemas = connection.execute(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = ? "
                "ORDER BY table_schema",
                [table],
            ).fetchall()
            if len(schemas) != 1:
                raise SystemExit(f"{len(schemas)} tables named {table} in {spec['database']}")
            schema = schemas[0][0]
            rows = connection.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
            columns = connection.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, table],
            ).fetchall()
            found[table] = {
                "rows": int(rows[0]) if rows else 0,
                "columns": [f"{name} {kind}" for name, kind in columns],
            }
    size = os.path.getsize(spec["database"])
    print(json.dumps({"tables": found, "bytes": size}))
    return 0


def child_main(spec_json: str) -> int:
    raw = json.loads(spec_json)
    spec = Spec(**{**raw, "tables": tuple(raw["tables"])})
    result = project_child(spec) if spec.variant == "project-stage" else dlt_child(spec)
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- the report


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def seconds_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / MIB:,.0f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}x"


def rows_text(rows: dict[str, int]) -> str:
    return ", ".join(f"{t} {n:,}" for t, n in rows.items()) or "n/a"


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
            "staging": median([r.staging for r in good]),
            "wall": median([r.wall for r in good]),
            "cpu": median([r.cpu for r in good]),
            "rss": median([r.rss for r in good]),
            "load": load_range(mine),
            "phases": {p: median([r.phases[p] for r in good if p in r.phases]) for p in phases},
            "counted": good[-1].counted if good else {},
            "same_counts": len({tuple(sorted(r.counted.items())) for r in good}) == 1,
            "details": good[-1].details if good else {},
        }
    return table


def summary_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| variant | runs ok | median staging s (in the child) | median child wall s "
        "| median CPU s | median peak RSS MiB | rows in the DuckDB file | same rows every round "
        "| load avg before runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for variant, s in table.items():
        lines.append(
            f"| {variant} | {s['ok']}/{s['runs']} | {seconds_text(s['staging'])} | "
            f"{seconds_text(s['wall'])} | {seconds_text(s['cpu'])} | {mib(s['rss'])} | "
            f"{rows_text(s['counted'])} | {'yes' if s['same_counts'] else 'no'} | {s['load']} |"
        )
    return lines


def ratios(table: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    project, dlt = table.get("project-stage"), table.get("dlt-jsonl")
    if not project or not dlt:
        return {}
    return {
        "staging": ratio(dlt["staging"], project["staging"]),
        "wall": ratio(dlt["wall"], project["wall"]),
        "rss": ratio(dlt["rss"], project["rss"]),
        "staging_commit": ratio(
            dlt["staging"],
            None
            if project["staging"] is None
            else project["staging"] + (project["phases"].get("commit") or 0.0),
        ),
    }


def ratio_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    found = ratios(table)
    if not found:
        return []
    verdict = (
        "n/a"
        if found["staging"] is None
        else ("met" if found["staging"] >= TARGET_RATIO else "NOT met")
    )
    return [
        "| dlt-jsonl / project-stage | staging s | staging s (project's commit added) "
        "| child wall s | peak RSS | target: staging >= 10x |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| ratio of medians | {ratio_text(found['staging'])} | "
        f"{ratio_text(found['staging_commit'])} | {ratio_text(found['wall'])} | "
        f"{ratio_text(found['rss'])} | {verdict} |",
    ]


def phase_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| variant | median seconds of each phase |", "| --- | --- |"]
    for variant, s in table.items():
        shown = ", ".join(f"{p} {v:.2f}" for p, v in s["phases"].items() if v is not None)
        lines.append(f"| {variant} | {shown or 'n/a'} |")
    return lines


def column_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["| variant | table | columns in the DuckDB file (name type) |", "| --- | --- | --- |"]
    for variant, s in table.items():
        for name, columns in s["details"].get("columns", {}).items():
            lines.append(f"| {variant} | {name} | {', '.join(columns)} |")
    return lines


def dlt_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    """What dlt did besides loading the rows (from its last successful run)."""
    details = table.get("dlt-jsonl", {}).get("details")
    if not details or "dataset" not in details:
        return []
    formats = ", ".join(f"`{f}`" for f in details["loader_file_formats"]) or "none kept"
    return [
        f"- dlt's defaults, as seen in its last run: dataset (schema) `{details['dataset']}`; "
        f"tables {', '.join(f'`{t}`' for t in details['dlt_tables'])}; load jobs written as "
        f"{formats} ({details['job_files']:,} job files, {details['job_bytes'] / MIB:,.1f} MiB), "
        f"kept after the load: {details['files_written']:,} files, "
        f"{details['bytes_written'] / MIB:,.1f} MiB left in its pipelines folder; DuckDB file "
        f"{details.get('database_bytes', 0) / MIB:,.1f} MiB",
    ]


def runs_lines(runs: list[Run]) -> list[str]:
    lines = [
        "| round | variant | staging s | child wall s | CPU s | peak RSS MiB | rows | "
        "load avg before | outcome |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for r in runs:
        load = "n/a" if r.load is None else f"{r.load:.2f}"
        outcome = "ok" if r.ok else stage.one_line(r.error)
        lines.append(
            f"| {r.round} | {r.variant} | {r.staging:.2f} | {r.wall:.2f} | {r.cpu:.2f} | "
            f"{mib(r.rss)} | {rows_text(r.counted)} | {load} | {outcome} |"
        )
    return lines


def count_problems(runs: list[Run], data: Data) -> list[str]:
    """Runs whose tables do not hold the rows the generator wrote (when its marker says)."""
    expected = {"staging_events": data.events, "staging_songs": data.songs}
    return [
        f"round {r.round} {r.variant}: {t} has {n:,} rows, the data set {expected[t]:,}"
        for r in runs
        if r.ok
        for t, n in r.counted.items()
        if expected.get(t) is not None and n != expected[t]
    ]


def data_text(data: Data, what: str) -> str:
    parts = []
    for t in TABLES[what]:
        parts.append(f"{t}: {data.files[t]:,} files, {data.size[t] / MIB:,.0f} MiB")
    size = (
        f"{data.events:,} events, {data.songs:,} songs"
        if data.events is not None and data.songs is not None
        else "no generator marker"
    )
    return f"`{data.folder}` ({size}); read: {'; '.join(parts)}"


def render(
    args: argparse.Namespace, data: Data, started: dt.datetime, runs: list[Run], versions: str
) -> str:
    table = summary(runs, args.variant_list)
    machine = stage.machine_facts()
    load = os.getloadavg()
    what = {"events": "event logs", "songs": "song files", "both": "event logs and song files"}
    parts = [
        f"## {started:%Y-%m-%d %H:%M} UTC — Staging vs dlt's jsonl path: {what[args.what]}, "
        f"{args.rounds} round(s)",
        "",
        f"- command: `{shlex.join(sys.orig_argv)}`",
        f"- commit: {stage.git_commit()}",
        f"- machine: {machine['cpus']}, {machine['ram']} RAM, {machine['os']}; load average "
        f"(1/5/15 min) when the section was written: {load[0]:.2f} / {load[1]:.2f} / "
        f"{load[2]:.2f}",
        f"- versions: {versions}",
        f"- data: {data_text(data, args.what)}",
        f"- peak RSS and CPU measured by {MEASURED_BY}; child wall time by this script; the "
        "staging step timed inside each child: project-stage, the `copy_into` calls in one "
        "transaction after `upgrade` (commit timed apart); dlt-jsonl, `pipeline.run` "
        "(extract + normalize + load, its commit included)",
        "- dlt-jsonl: `filesystem(bucket_url='file://…', file_glob='**/*.json') | read_jsonl()`"
        ", `pipeline.run(…, table_name=…)` into a new DuckDB file, dlt's defaults (names "
        "normalized to snake_case, types inferred from the data, `_dlt_load_id` and `_dlt_id` "
        "added, load packages written to disk, then loaded); pipelines folder in the run's temp "
        "folder; telemetry off"
        + (
            "; song files: read_jsonl fails on the pretty-printed ones, so a transformer "
            "parses each file whole with dlt's json (`read_jsonl`'s loop, one document a file)"
            if "staging_songs" in TABLES[args.what]
            else ""
        ),
        *dlt_lines(table),
        "",
        *summary_lines(table),
        "",
    ]
    problems = count_problems(runs, data)
    if problems:
        parts += [f"**Row counts differ from the data set**: {'; '.join(problems)}", ""]
    ratio_part = ratio_lines(table)
    if ratio_part:
        parts += [*ratio_part, ""]
    parts += [*phase_lines(table), "", *column_lines(table), ""]
    parts += ["Every run, in the order they ran:", "", *runs_lines(runs), ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------- main


def benchmark(args: argparse.Namespace, data: Data) -> list[Run]:
    runs: list[Run] = []
    for number in range(1, args.rounds + 1):
        for variant in args.variant_list:
            print(f"Round {number}/{args.rounds}: {variant} …", file=sys.stderr)
            run = run_variant(variant, number, data, args)
            runs.append(run)
            shown = (
                f"staging {run.staging:.2f} s, child {run.wall:.2f} s, {mib(run.rss)} MiB, "
                f"rows {rows_text(run.counted)}"
                if run.ok
                else run.error
            )
            print(f"  {shown} (load average before {run.load})", file=sys.stderr)
    return runs


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return child_main(args.child)
    if args.inspect is not None:
        return inspect_main(args.inspect)
    started = stage.utc_now()
    data = describe_data(args.data.resolve())
    packages = ("duckdb", "SQLAlchemy", "duckdb-engine")
    versions = f"project venv: {interpreter_versions(Path(sys.executable), packages)}"
    if "dlt-jsonl" in args.variant_list:
        python = ensure_dlt_python(args.dlt_python)
        versions += f"; dlt venv: {interpreter_versions(python, ('dlt', 'duckdb'))}"
    runs = benchmark(args, data)
    section = render(args, data, started, runs, versions)
    stage.append_results(args.out, section)
    print(section)
    table = summary(runs, args.variant_list)
    found = ratios(table)
    for variant, s in table.items():
        print(
            f"{variant}: median staging {seconds_text(s['staging'])} s, child wall "
            f"{seconds_text(s['wall'])} s, peak RSS {mib(s['rss'])} MiB, "
            f"rows {rows_text(s['counted'])}",
            file=sys.stderr,
        )
    if found:
        print(f"dlt/project (staging s): {ratio_text(found['staging'])}", file=sys.stderr)
    print(f"Appended to {args.out}", file=sys.stderr)
    problems = count_problems(runs, data)
    for problem in problems:
        print(f"Row counts: {problem}", file=sys.stderr)
    return 0 if all(r.ok for r in runs) and not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
