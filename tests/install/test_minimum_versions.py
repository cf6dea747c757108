"""The declared minimum versions are true: installed exactly, they pass a fast subset of tests.

`constraints/minimum.txt` pins each dependency at the lower bound pyproject.toml declares (a
test holds the two together), plus what an old release needs beside it. A new environment gets
exactly those versions, and the subset (imports, the CLI, migrations and one pipeline on DuckDB
and PostgreSQL, the Redshift SQL) runs there.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.install.conftest import ROOT, Venv, make_venv, must, sh, shared

pytestmark = [pytest.mark.install, pytest.mark.slow]

CONSTRAINTS = ROOT / "constraints" / "minimum.txt"
# Fast, and enough to break on an API a minimum release lacks.
SUBSET = (
    "tests/unit",
    "tests/sql",
    "tests/integration/test_migrations.py",
    "tests/integration/test_pipeline.py",
    "tests/integration/test_merge_counts.py",  # the report's rows where drivers count -1
    "tests/cli/test_run_command.py",
    "tests/aws/test_s3.py",  # boto3 and botocore against moto's S3 server
)


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    found = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            found[_name(requirement.name)] = spec.version
    return found


def declared() -> list[Requirement]:
    """The runtime dependencies, the drivers' extras and the notebook's, as pyproject.toml
    declares them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in (*project["dependencies"], *extras["postgres"],
                                     *extras["redshift"], *extras["notebook"])]  # fmt: skip


def test_the_constraints_pin_each_declared_minimum_and_nothing_outside_the_ranges() -> None:
    pinned = pins()
    for requirement in declared():
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert lower, f"{requirement} declares no minimum"
        pin = pinned.get(_name(requirement.name))
        assert pin is not None, f"{requirement}: constraints/minimum.txt pins nothing"
        assert Version(pin) == Version(lower[0]), f"{requirement}: minimum.txt pins {pin}"
        assert requirement.specifier.contains(lower[0])


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    def build(where: Path) -> None:
        make_venv(where).pip_install("-c", CONSTRAINTS, "-e", f"{ROOT}[test]")

    return Venv(shared(tmp_path_factory, "minimum-venv", build))


def test_the_minimum_versions_are_what_is_installed(venv: Venv) -> None:
    listed = must(sh(venv.python, "-m", "pip", "list", "--format", "json", env=venv.env()),
                  "pip list")  # fmt: skip
    installed = {_name(p["name"]): p["version"] for p in json.loads(listed)}
    for name, version in pins().items():
        assert installed.get(name) == version, f"{name}: {installed.get(name)} != {version}"


def test_the_fast_subset_passes_at_the_minimum_versions(venv: Venv, tmp_path: Path) -> None:
    result = sh(
        venv.python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
        f"--basetemp={tmp_path / 'inner'}", *SUBSET,
        cwd=ROOT, env=venv.env(), timeout=1200,
    )  # fmt: skip
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"at the minimum versions:\n{tail}"
