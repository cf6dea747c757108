"""The package installed as its users install it, in virtual environments outside the checkout.

Building and installing take tens of seconds and need the package index (PyPI or a mirror), so
each environment is made once per test session and shared by the xdist workers (a file lock
in the session's temporary root, the pattern of pytest-xdist's documentation; its
`xdist_group` marker does not group tests under pytest 9).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def sh(
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 900,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def must(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        pytest.fail(f"{what} failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def env(self, **extra: str) -> dict[str, str]:
        """A user's environment: this venv first on PATH, nothing of the checkout's."""
        keep = ("HOME", "LANG", "LC_ALL", "TMPDIR", "CI", "PIP_CERT", "PIP_FIND_LINKS",
                "SPARKIFY_TEST_PG_URL")  # fmt: skip
        environ = {k: os.environ[k] for k in keep if k in os.environ}
        environ["PATH"] = f"{self.bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin"
        environ["COLUMNS"] = "200"
        environ.update(extra)
        return environ

    def pip_install(self, *args: str | Path) -> None:
        must(
            sh(self.python, "-m", "pip", "install", "--quiet", *args, env=self.env()),
            f"pip install {' '.join(map(str, args))}",
        )


def make_venv(where: Path) -> Venv:
    # The interpreter behind this one, not the checkout's .venv.
    base = getattr(sys, "_base_executable", sys.executable)
    must(sh(base, "-m", "venv", where), "python -m venv")
    return Venv(where)


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        yield


def shared(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A folder made once per test session by `build`, whichever worker asks first."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's root, above each worker's own
    folder, done = root / name, root / f"{name}.done"
    with _exclusive(root / f"{name}.lock"):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            build(folder)
            done.touch()
    return folder


def _build_wheel(dist: Path) -> None:
    must(
        sh(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, ROOT),
        "building the wheel",
    )


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as `pip wheel` builds it (an isolated build environment)."""
    (built,) = shared(tmp_path_factory, "dist", _build_wheel).glob("sparkify_dw-*.whl")
    return built
