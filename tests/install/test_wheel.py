"""`pip install sparkify-dw` (the wheel, no extras) in a clean environment, used from an empty
folder: every command starts, the pipeline runs, the schema commands find their migrations.

This is what CI could not see when the project's own .venv (with the test tools) hid a missing
dependency: nothing here imports from the checkout or its .venv.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from sparkify_dw.schemas import NAMES
from tests.install.conftest import ROOT, Venv, make_venv, must, sh, shared

pytestmark = [pytest.mark.install, pytest.mark.slow]

DB = "duckdb:///w.duckdb"


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    def build(where: Path) -> None:
        make_venv(where).pip_install(wheel)  # no extras: what `pip install sparkify-dw` gives

    return Venv(shared(tmp_path_factory, "user-venv", build))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder outside the checkout, where the user runs the commands."""
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module")
def loaded(venv: Venv, folder: Path) -> Path:
    """`sparkify-dw run` on the bundled sample into a DuckDB file in `folder`."""
    result = sh(venv.bin / "sparkify-dw", "run", "--db", DB, cwd=folder, env=venv.env())
    must(result, "sparkify-dw run")
    return folder / "w.duckdb"


def sparkify(venv: Venv, folder: Path, *args: str) -> str:
    result = sh(venv.bin / "sparkify-dw", *args, cwd=folder, env=venv.env())
    assert "Traceback" not in result.stderr, result.stderr
    return must(result, f"sparkify-dw {' '.join(args)}")


def test_the_wheel_carries_the_migrations_the_types_and_the_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "sparkify_dw/py.typed",
        "sparkify_dw/alembic.ini",
        "sparkify_dw/migrations/env.py",
        "sparkify_dw/sample_data/log_json_path.json",
        "sparkify_dw/expectations/sample.json",
    ):
        assert name in names
    for schema in NAMES:  # --format json's documented shapes
        assert f"sparkify_dw/schemas/{schema}.schema.json" in names
    versions = {n for n in names if n.startswith("sparkify_dw/migrations/versions/")}
    assert {Path(n).name for n in versions} == {
        p.name for p in (ROOT / "migrations" / "versions").glob("*.py")
    }
    assert any(re.search(r"\.dist-info/licenses/LICENSE$", n) for n in names)
    assert not any("__pycache__" in n for n in names)


def test_pip_check_finds_every_requirement(venv: Venv) -> None:
    must(sh(venv.python, "-m", "pip", "check", env=venv.env()), "pip check")


def test_version_imports_no_dialect_nor_alembic_nor_duckdb(venv: Venv, folder: Path) -> None:
    assert sparkify(venv, folder, "--version").strip().startswith("sparkify-dw ")
    probe = (
        "import sys\n"
        "sys.argv = ['sparkify-dw', '--version']\n"
        "from sparkify_dw.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'alembic', 'duckdb', 'duckdb_engine', 'sqlalchemy_redshift', 'pyarrow'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    output = must(sh(venv.python, "-c", probe, cwd=folder, env=venv.env()), "--version probe")
    assert output.splitlines()[-1] == "[]"


def test_run_verify_and_check_on_the_bundled_sample(venv: Venv, folder: Path, loaded: Path) -> None:
    assert loaded.is_file()
    assert "OK" in sparkify(venv, folder, "verify", "--db", DB)
    assert "passed" in sparkify(venv, folder, "check", "--db", DB)
    assert json.loads(sparkify(venv, folder, "check", "--db", DB, "--format", "json"))["ok"]
    assert "top-songs" in sparkify(venv, folder, "query", "--list")
    sparkify(venv, folder, "query", "top-songs", "--db", DB, "--format", "json")
    assert "Wrote" in sparkify(venv, folder, "report", "--db", DB, "--out", "r.html")
    assert (folder / "r.html").stat().st_size > 1000


def test_db_current_names_the_head_revision(venv: Venv, folder: Path, loaded: Path) -> None:
    history = sparkify(venv, folder, "db", "history")
    head = re.search(r"-> (\S+) \(head\)", history)
    assert head is not None, history
    assert sparkify(venv, folder, "db", "current", "--db", DB).split() == [head[1], "(head)"]


def test_the_packaged_alembic_ini_works_with_alembic_c(venv: Venv, folder: Path) -> None:
    ini = sparkify(venv, folder, "db", "alembic-ini").strip()
    assert Path(ini).is_relative_to(venv.path), ini  # the installed copy, not the checkout's
    url = "duckdb:///by_alembic.duckdb"
    for args in (["upgrade", "head"], ["current"]):
        result = sh(
            venv.bin / "alembic", "-c", ini, "-x", f"db={url}", *args, cwd=folder, env=venv.env()
        )
        must(result, f"alembic -c {ini} {' '.join(args)}")
    assert "(head)" in result.stdout
    offline = sparkify(venv, folder, "db", "upgrade", "--sql", "--db", "duckdb:///x.duckdb")
    assert "CREATE TABLE songplays" in offline
    assert not (folder / "x.duckdb").exists()  # --sql connects to nothing


def test_every_command_starts(venv: Venv, folder: Path) -> None:
    for command in ("run", "query", "check", "report", "verify", "sql", "db", "generate"):
        assert "Usage" in sparkify(venv, folder, command, "--help")
    assert "create" in sparkify(venv, folder, "cluster", "--help")
    script = sparkify(venv, folder, "sql", "--dialect", "redshift")
    assert "COPY staging_events" in script
    sparkify(venv, folder, "generate", "--out", "gen", "--songs", "3", "--events", "30")
    assert (folder / "gen" / "log_json_path.json").is_file()


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("redshift+redshift_connector://awsuser:S3cret-pw@localhost:1/dev", "redshift"),
        ("postgresql+psycopg://postgres:S3cret-pw@localhost:1/db", "postgres"),
    ],
)
def test_a_missing_driver_is_one_line_naming_the_extra(
    venv: Venv, folder: Path, url: str, extra: str
) -> None:
    result = sh(venv.bin / "sparkify-dw", "run", "--db", url, cwd=folder, env=venv.env())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert f"sparkify-dw[{extra}]" in result.stderr
    assert "S3cret-pw" not in result.stdout + result.stderr
