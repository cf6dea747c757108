"""Helpers shared by the tests: loading a folder, running the command, parsing Redshift SQL."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from sqlalchemy import Engine
from sqlalchemy.engine import URL, Connection

from sparkify_dw import LoadReport, load

# --- Loading -----------------------------------------------------------------------------------


def load_dir(
    bind: Engine | Connection,
    data: Path,
    log_data: Path | None = None,
    song_data: Path | None = None,
    **options: Any,
) -> LoadReport:
    """`sparkify_dw.load` of a folder laid out like the sources (song_data/, log_data/,
    log_json_path.json); `log_data`/`song_data` replace the folder's, `options` go to load()."""
    return load(
        bind,
        song_data=str(song_data or data / "song_data"),
        log_data=str(log_data or data / "log_data"),
        log_jsonpath=str(data / "log_json_path.json"),
        **options,
    )


def copy_batch(files: list[Path], folder: Path) -> Path:
    """`folder`, new, holding copies of `files`: a batch of logs to load on its own."""
    folder.mkdir(parents=True)
    for f in files:
        shutil.copyfile(f, folder / f.name)
    return folder


def without_keys(connection: Connection, table: str) -> None:
    """Recreate `table` with the same rows and no primary key or unique constraint.

    `CREATE TABLE t_copy AS SELECT * FROM t`, drop `t`, rename the copy: the same statements
    work on DuckDB (which cannot drop a primary key) and PostgreSQL.
    """
    connection.exec_driver_sql(f"CREATE TABLE {table}_copy AS SELECT * FROM {table}")
    connection.exec_driver_sql(f"DROP TABLE {table}")
    connection.exec_driver_sql(f"ALTER TABLE {table}_copy RENAME TO {table}")


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- The command -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """What a command answered: its exit code, stdout, stderr, and the DEBUG log if one was
    asked for (`sparkify(..., debug_log=…)`)."""

    returncode: int
    stdout: str
    stderr: str
    log: str = ""

    def error_line(self, *fragments: str, alone: bool = False) -> str:
        """The one line a user mistake gives: exit code 1, no traceback, exactly one
        `error: …` line on stderr holding each fragment (with `alone`, nothing else there)."""
        assert self.returncode == 1, self.stdout + self.stderr
        assert "Traceback" not in self.stderr
        lines = [line for line in self.stderr.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1, self.stderr
        if alone:
            assert [line for line in self.stderr.splitlines() if line.strip()] == lines, self.stderr
        for fragment in fragments:
            assert fragment in lines[0], lines[0]
        return lines[0]

    def assert_never_shows(self, *secrets: str) -> None:
        """No form of any secret (see `secret_forms`) in stdout, stderr or the log, not even
        wrapped over two lines."""
        for secret in secrets:
            for form in secret_forms(secret):
                for where, text in (("stdout", self.stdout), ("stderr", self.stderr),
                                    ("the DEBUG log", self.log)):  # fmt: skip
                    assert form not in text, f"{form!r} in {where}:\n{_around(text, form)}"
                    assert form not in "".join(text.split()), f"{form!r} in {where}, wrapped"

    def assert_logged(self, *fragments: str) -> None:
        """The log is the full DEBUG trace, not an empty file."""
        for fragment in fragments:
            assert fragment in self.log, f"{fragment!r} not logged; the log:\n{self.log[:3000]}"


def secret_forms(secret: str) -> set[str]:
    """The secret as it is, percent-encoded, and as SQLAlchemy writes it in a URL."""
    in_url = URL.create("x", username="u", password=secret, host="h")
    rendered = in_url.render_as_string(hide_password=False)
    return {secret, quote(secret, safe=""), quote_plus(secret), rendered[len("x://u:") : -2]}


def _around(text: str, fragment: str) -> str:
    at = text.index(fragment)
    return text[max(0, at - 500) : at + 200]


CHECKOUT = Path(__file__).resolve().parents[1]  # the folder holding sparkify_dw/ and tests/


def python(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300) -> Run:
    """`python args…` in a process of its own, as a user runs it: in `cwd`, with this process's
    environment less every SPARKIFY_ variable (each sets an option), plus `env`. The one way the
    tests start a Python process."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SPARKIFY_") or k == "SPARKIFY_DB_PASSWORD"  # it sets no option
    }
    # This checkout's package, not whichever one the environment installed (editable from
    # another worktree, say): the process runs the code under test.
    environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(CHECKOUT), environ.get("PYTHONPATH", "")) if p
    )
    environ.update(env or {})
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(result.returncode, result.stdout, result.stderr)


# Every record of every logger goes to the file; the loggers that stay quiet unless asked are
# turned up by name, after the import (SQLAlchemy sets its own logger to WARNING on import).
_AT_DEBUG = """
import logging, sys

log_file, *args = sys.argv[1:]
handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
logging.getLogger().addHandler(handler)
logging.captureWarnings(True)

import sparkify_dw.cli

for name in ("", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "botocore", "boto3",
             "urllib3", "redshift_connector", "alembic", "psycopg"):
    logging.getLogger(name).setLevel(logging.DEBUG)
sys.argv = ["sparkify-dw", *args]
sparkify_dw.cli.main()
"""


def sparkify(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    debug_log: Path | None = None,
    timeout: int = 300,
) -> Run:
    """`sparkify-dw args…` in a process of its own (`python -m sparkify_dw`, see `python`).

    With `debug_log`, every logger of every library is at DEBUG and writes to that file, which
    `Run.log` then holds.
    """
    if debug_log is None:
        return python("-m", "sparkify_dw", *args, cwd=cwd, env=env, timeout=timeout)
    run = python("-c", _AT_DEBUG, str(debug_log), *args, cwd=cwd, env=env, timeout=timeout)
    log = debug_log.read_text(encoding="utf-8") if debug_log.exists() else ""
    return Run(run.returncode, run.stdout, run.stderr, log)


# --- The report's SVG -------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def svgs(html: str) -> list[str]:
    """Every inline `<svg>…</svg>` of a page."""
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)


def parse_svg(svg: str) -> ET.Element:
    """The SVG's root element; raises on anything that is not well-formed XML."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def svg_texts(root: ET.Element) -> list[str]:
    """The text of each `<text>` element."""
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


# --- Redshift SQL ------------------------------------------------------------------------------


@functools.cache
def parse_redshift(sql: str) -> dict[str, Any]:
    """sqlfluff's parse tree of `sql` (one statement, or a script of `;`-ended statements) in
    its `redshift` grammar, after asserting that every part of it parses.

    sqlfluff.parse raises APIParsingError on any unparsable section; the check of the tree
    guards against a release that would only mark them in it. Parsed once per distinct text.
    """
    import sqlfluff
    from sqlfluff.api.simple import APIParsingError

    text = sql if sql.rstrip().endswith(";") else f"{sql};"
    try:
        tree: dict[str, Any] = sqlfluff.parse(text, dialect="redshift")
    except APIParsingError as exc:
        raise AssertionError(f"not Redshift SQL: {exc}\n{sql}") from None
    dumped = json.dumps(tree)
    unparsable = re.findall(r'"unparsable": "([^"]*)', dumped)
    assert "unparsable" not in dumped, f"unparsable: {unparsable}\n{sql}"
    return tree


def event(**fields: Any) -> dict[str, Any]:
    """One NextSong event of the log format (camelCase keys, a real event's values), `fields`
    changed or added: the record the COPY tests vary."""
    record: dict[str, Any] = {
        "artist": "Des'ree", "auth": "Logged In", "firstName": "Kaylee", "gender": "F",
        "itemInSession": 1, "lastName": "Summers", "length": 246.30812, "level": "free",
        "location": "Phoenix-Mesa-Scottsdale, AZ", "method": "PUT", "page": "NextSong",
        "registration": 1540344794796.0, "sessionId": 139, "song": "You Gotta Be",
        "status": 200, "ts": 1541106106796, "userAgent": '"Mozilla/5.0"', "userId": "8",
    }  # fmt: skip
    record.update(fields)
    return record
