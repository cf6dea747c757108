"""Helpers shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
