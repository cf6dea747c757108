"""Issue 16: what the command writes when it is not at a terminal, its logs, its environment
variables and its `--help`.

- Piped, nothing is wrapped or cut: a 150-character database path stays on one line, and so
  does a reject's file name in `check`'s examples.
- Piped, progress is log lines (COPYs, merges, checks, `generate`); `-v` adds the library's
  INFO records, `--log-format json` makes each stderr line one JSON object, `--quiet` leaves
  the results alone.
- Every option has its SPARKIFY_ variable, shown in `--help` with every default, and no flag
  shows a `<bool>` it does not take.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sparkify_dw.cli import environment
from sparkify_dw.cli.app import command
from sparkify_dw.transforms import star_merges
from tests.helpers import Run, sparkify

# Every statement of the merges (what the merge progress counts), from the merges themselves
MERGE_STATEMENTS = sum(len(merge.steps()) for merge in star_merges())


def _long_folder(root: Path, length: int) -> Path:
    """A folder under `root` whose path is `length` characters long."""
    missing = length - len(str(root)) - 1
    assert missing > 10, root
    folder = root / ("d" * (missing - 1))
    return folder if len(str(folder)) == length else root / ("d" * missing)


# --- Piped: nothing wrapped, nothing cut ---------------------------------------------------------


def test_a_piped_run_prints_a_150_character_path_on_one_line_and_logs_its_progress(
    tmp_path: Path,
) -> None:
    folder = _long_folder(tmp_path, 150 - len("/w.duckdb"))
    folder.mkdir()
    path = folder / "w.duckdb"
    assert len(str(path)) == 150
    run = sparkify("run", "--db", f"duckdb:///{path}", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert f"Loaded into duckdb:///{path}\n" in run.stdout
    assert f"Loading into duckdb:///{path}\n" in run.stderr
    # No table was laid out in 80 columns: each fits its widest cell, on one line a row.
    assert all(len(line) < 80 for line in run.stdout.splitlines() if line.startswith("│"))
    # Progress, as log lines, through every phase: the COPYs, the merges and the checks.
    merged = f"merge: {MERGE_STATEMENTS} of {MERGE_STATEMENTS} (100%)"
    for done in ("staging_songs: 38.2 kB of 38.2 kB (100%)", merged,
                 "checks: 15 of 15 (100%)"):  # fmt: skip
        assert f"INFO sparkify_dw.cli.progress: {done}" in run.stderr, run.stderr
    # Without -v, the library's own INFO records stay out.
    assert "sparkify_dw.loader" not in run.stderr


def test_check_examples_keep_a_long_file_name_whole(
    cli: Callable[..., Run], tmp_path: Path, sample_dir: Path
) -> None:
    import shutil

    data = _long_folder(tmp_path, 120)
    shutil.copytree(sample_dir, data)
    log = sorted((data / "log_data").rglob("*.json"))[0]
    with log.open("a", encoding="utf-8") as file:
        file.write('\n{"not json')
    db = f"duckdb:///{tmp_path / 'w.duckdb'}"
    loaded = cli("run", "--db", db, "--song-data", str(data / "song_data"),
                 "--log-data", str(data / "log_data"), "--max-error", "5")  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    checked = cli("check", "--db", db)
    assert checked.returncode == 0, checked.stderr
    assert f"filename={log}," in checked.stdout  # whole, on one line, no "…"
    assert "…" not in checked.stdout


# --- Logs -------------------------------------------------------------------------------------


def test_verbose_json_logs_are_one_object_a_line_with_each_step(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    run = sparkify("-v", "--log-format", "json", "run", "--db", f"duckdb:///{db}", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stderr.splitlines()]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    messages = [r["message"] for r in records]
    assert f"Loading into duckdb:///{db}" in messages
    for start in ("migrate duckdb:///", "COPY staging_songs from ", "COPY staging_events: 2000 "
                  "rows from 30 file(s), 0 rejected", "merge songplays: 1675 row(s) staged, "
                  "1675 inserted, 0 replaced", "check unique_plays: passed"):  # fmt: skip
        assert any(m.startswith(start) for m in messages), (start, messages)
    merge = [r for r in records if r.get("step") == "merge"]
    assert merge[-1]["done"] == merge[-1]["total"] == MERGE_STATEMENTS
    copy = next(r for r in records if r["message"].startswith("COPY staging_songs:"))
    assert copy["logger"] == "sparkify_dw.loader"
    assert (copy["rows"], copy["files"], copy["rejected"]) == (150, 150, 0)


def test_an_error_is_a_json_record_too(cli: Callable[..., Run]) -> None:
    run = cli("--log-format", "json", "run", "--song-data", "/nope", "--log-data", "/nope")
    assert run.returncode == 1
    *_, record = [json.loads(line) for line in run.stderr.splitlines()]  # each line JSON
    assert record["level"] == "ERROR"
    assert "No files found at /nope" in record["message"]


def test_quiet_prints_the_results_and_nothing_else(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("--quiet", "run", "--db", f"duckdb:///{tmp_path / 'w.duckdb'}")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "Loaded into" in run.stdout


def test_a_logged_database_url_has_its_password_masked(postgres_url: str, tmp_path: Path) -> None:
    # The test server trusts local connections: a password is sent, accepted and unused.
    url = sa.make_url(postgres_url).set(password="Pw-9f2c-S3cret")
    url = url.render_as_string(hide_password=False)
    assert "S3cret" in url
    run = sparkify("-vv", "run", "--db", url, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "INFO sparkify_dw.loader: migrate postgresql+psycopg://postgres:***@" in run.stderr
    assert "S3cret" not in run.stdout + run.stderr


def test_generate_logs_its_progress(tmp_path: Path) -> None:
    run = sparkify("generate", "--out", "gen", "--songs", "600", "--events", "900", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "sparkify_dw.cli.progress: song files: 0 of 600 (0%)" in run.stderr
    assert "sparkify_dw.cli.progress: song files: 600 of 600 (100%)" in run.stderr
    assert "sparkify_dw.cli.progress: events: 900 of 900 (100%)" in run.stderr


def test_progress_lines_are_spaced_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from sparkify_dw.cli import progress

    now = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: now[0])
    lines: list[str] = []
    monkeypatch.setattr(progress.logger, "info", lambda fmt, *args, **kw: lines.append(args[1]))
    log = progress._LogLines(lambda name: False)
    for second in range(16):  # one check a second
        now[0] = float(second)
        log("checks", second, 15)
        log("checks", second, 15)  # nothing new
    log("checks", 15, 15)
    assert lines == ["0 of 15 (0%)", "10 of 15 (66%)", "15 of 15 (100%)"]


# --- The environment ---------------------------------------------------------------------------


def test_every_option_comes_from_a_variable(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    generated = cli("generate", "--out", "gen", "--songs", "20", "--events", "200")
    assert generated.returncode == 0, generated.stderr
    for name, value in {
        "SPARKIFY_DB_URL": f"duckdb:///{tmp_path / 'env.duckdb'}",  # the name it always had
        "SPARKIFY_SONG_DATA": str(tmp_path / "gen/song_data"),
        "SPARKIFY_LOG_DATA": str(tmp_path / "gen/log_data"),
        "SPARKIFY_FULL_REFRESH": "1",
        "SPARKIFY_VERBOSE": "1",
        "SPARKIFY_LOG_FORMAT": "json",
    }.items():
        monkeypatch.setenv(name, value)
    run = cli("run")
    assert run.returncode == 0, run.stderr
    assert "(star tables rebuilt: --full-refresh)" in run.stdout
    assert "20 rows from 20 file(s)" in run.stdout
    messages = [json.loads(line)["message"] for line in run.stderr.splitlines()]
    assert any(m.startswith("COPY staging_events: 200 rows") for m in messages)


def test_variable_names() -> None:
    group = command()
    generate, report = group.commands["generate"], group.commands["report"]  # type: ignore[attr-defined]
    out = next(p for p in generate.params if p.name == "out_dir")
    assert out.envvar == "SPARKIFY_GENERATE_OUT"  # --out means a folder here, a file there
    assert next(p for p in report.params if "--out" in p.opts).envvar == "SPARKIFY_REPORT_OUT"
    delete = group.commands["cluster"].commands["delete"]  # type: ignore[attr-defined]
    yes = next(p for p in delete.params if p.name == "yes")
    assert yes.envvar is None  # deleting a cluster is confirmed by hand, every time
    assert environment.envvar(("run",), group.commands["run"].params[0]) == "SPARKIFY_DB_URL"  # type: ignore[attr-defined]


# --- --help -----------------------------------------------------------------------------------


def _commands(
    group: object, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], object]]:
    subcommands = getattr(group, "commands", {})
    if not subcommands:
        yield path, group
    for name, sub in subcommands.items():
        yield from _commands(sub, (*path, name))


COMMANDS = [path for path, _ in _commands(command())]


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "sparkify-dw")
def test_help_shows_each_default_and_variable_and_no_bool(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one row an option
    run = cli(*path, "--help")
    assert run.returncode == 0, run.stderr
    assert "<bool>" not in run.stdout
    if not path:
        assert "<int>" not in _row(run.stdout, "--verbose")  # -v, -vv: a count takes no value
    each = command()
    for name in path:
        each = each.commands[name]  # type: ignore[attr-defined]
    for param in each.params:  # type: ignore[attr-defined]
        long = next((o for o in param.opts if o.startswith("--")), None)
        if param.param_type_name != "option" or long == "--version" or long is None:
            continue
        row = _row(run.stdout, long)
        if long not in environment.TYPED_ONLY:
            assert f"[env var: {environment.envvar(path, param)}]" in row, row
        takes_value = not (param.is_flag or param.count) or param.secondary_opts
        if param.default is not None and takes_value and not param.required:
            assert "[default: " in row, row
        if "[default: " in (param.help or "") or "\\[default: " in (param.help or ""):
            assert "[default: " in row, row  # hand-written, kept


def _row(text: str, option: str) -> str:
    rows = [line for line in text.splitlines() if re.match(rf"│\s*\*?\s*{option}\s", line)]
    assert len(rows) == 1, (option, text)
    return rows[0]


def test_run_help_keeps_its_hand_written_defaults(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    help_ = cli("run", "--help").stdout
    assert "Song files: a folder or s3:// prefix [default: sample]" in help_
    assert "[default: $SPARKIFY_DB_URL, dwh.cfg, duckdb:///sparkify.duckdb]" in help_
    assert "[env var: SPARKIFY_SONG_DATA]" in help_
