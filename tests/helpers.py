"""Helpers shared by the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from sparkify_dw import LoadReport, load


def run_module(
    module: str, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m module args…` as a user runs it, without the caller's SPARKIFY_DB_URL."""
    environ = {k: v for k, v in os.environ.items() if k != "SPARKIFY_DB_URL"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def load_dir(
    bind: Engine | Connection, data: Path, log_data: Path | None = None, **options: Any
) -> LoadReport:
    """`sparkify_dw.load` of a folder laid out like the sources (song_data/, log_data/,
    log_json_path.json); `log_data` replaces the folder's logs, `options` go to load()."""
    return load(
        bind,
        song_data=str(data / "song_data"),
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
