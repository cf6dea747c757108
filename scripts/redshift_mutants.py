#!/usr/bin/env python3
"""Mutation testing for Redshift fidelity: break a copy of the project the ways Redshift would
refuse, and show that the test suite fails on every one.

Each mutant is one text substitution in one file of a copy of the checkout (made in a temporary
folder, without .venv and .git; the checkout itself is never written). For each, the tests run
in the copy; the mutant is *killed* if a test fails, *survived* if they all pass. The script
exits 0 only if every mutant applies and is killed, and the unmutated copy passes first.

    .venv/bin/python scripts/redshift_mutants.py              # the Redshift rule tests
    .venv/bin/python scripts/redshift_mutants.py --list       # the mutants
    .venv/bin/python scripts/redshift_mutants.py --only az64-on-double-model -v
    .venv/bin/python scripts/redshift_mutants.py --tests tests/redshift_rules tests/sql

Run it with the project's virtual environment's Python: the copy imports its own sparkify_dw
(its folder comes first on sys.path), the dependencies come from that environment. A mutant
that no longer applies (its file changed) is an error, not a pass: update its text here.
`tests/redshift_rules/test_mutants.py` (marked slow) runs it with the suite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TESTS = ("tests/redshift_rules",)
IGNORE = shutil.ignore_patterns(
    ".venv*", ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "*.duckdb",
    "*.duckdb.wal", "dist", "build", "*.egg-info", "dwh.cfg", "report.html",
)  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    name: str
    why: str  # what Redshift does with it, and the page that says so
    path: str
    old: str
    new: str


MUTANTS = (
    Mutant("az64-on-double-model", "ENCODE az64 on a DOUBLE PRECISION column (az64-encoding)",
           "sparkify_dw/models/star.py",
           'duration: Mapped[float | None] = mapped_column(Double, redshift_encode="raw")',
           'duration: Mapped[float | None] = mapped_column(Double, redshift_encode="az64")'),
    Mutant("az64-on-double-migration", "ENCODE az64 on a DOUBLE PRECISION column, migration 0001",
           "migrations/versions/0001_create_tables.py",
           'sa.Column("duration", sa.Double, **RAW),', 'sa.Column("duration", sa.Double, **AZ64),'),
    Mutant("delta-on-double-migration", "ENCODE delta on a DOUBLE PRECISION column, migration 0003",
           "migrations/versions/0003_staging_typed_for_the_star.py",
           'sa.Column("registration", sa.Double),',
           'sa.Column("registration", sa.Double, redshift_encode="delta"),'),
    Mutant("mostly16-on-smallint-model", "MOSTLY16 on a 16-bit column (c_MostlyN_encoding)",
           "sparkify_dw/models/star.py",
           'hour: Mapped[int] = mapped_column(SmallInteger, nullable=False, redshift_encode="az64"',
           'hour: Mapped[int] = mapped_column(SmallInteger, nullable=False, '
           'redshift_encode="mostly16"'),
    Mutant("varchar-70000-model", "VARCHAR(70000), over 65535 bytes (r_Character_types)",
           "sparkify_dw/models/load_errors.py",
           "raw_line: Mapped[str | None] = mapped_column(String(1024))",
           "raw_line: Mapped[str | None] = mapped_column(String(70000))"),
    Mutant("varchar-70000-migration", "VARCHAR(70000) in migration 0002",
           "migrations/versions/0002_create_load_errors.py",
           'sa.Column("raw_line", sa.String(1024)),', 'sa.Column("raw_line", sa.String(70000)),'),
    Mutant("identity-on-varchar-model", "IDENTITY on a VARCHAR (r_CREATE_TABLE_NEW, IDENTITY)",
           "sparkify_dw/models/star.py",
           'title: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd")',
           'title: Mapped[str | None] = mapped_column(String(512), redshift_encode="zstd", '
           "redshift_identity=(0, 1))"),
    Mutant("distkey-missing-column-model", "DISTKEY on a column the table does not have",
           "sparkify_dw/models/star.py",
           '"redshift_distkey": "start_time",\n            "redshift_sortkey": "start_time",  #',
           '"redshift_distkey": "start_ts",\n            "redshift_sortkey": "start_time",  #'),
    Mutant("sortkey-missing-column-model", "SORTKEY on a column the table does not have",
           "sparkify_dw/models/star.py",
           '{"redshift_diststyle": "ALL", "redshift_sortkey": "user_id"}',
           '{"redshift_diststyle": "ALL", "redshift_sortkey": "userid"}'),
    Mutant("timeformat-typo-copy", "TIMEFORMAT 'epochmilisecs' in the COPY sent to Redshift",
           "sparkify_dw/copy/redshift.py",
           "time_format=options.timeformat,",
           'time_format=options.timeformat or "epochmilisecs",'),
    Mutant("timeformat-typo-default", "TIMEFORMAT 'epochmilisecs' as CopyOptions' default",
           "sparkify_dw/copy/options.py",
           "timeformat: str | None = None", 'timeformat: str | None = "epochmilisecs"'),
    Mutant("maxerror-bound-200000", "the library's MAXERROR bound at 200000 (limit: 100000)",
           "sparkify_dw/copy/options.py", "MAX_MAXERROR = 100_000", "MAX_MAXERROR = 200_000"),
    Mutant("maxerror-200000-copy", "MAXERROR 200000 in the COPY sent to Redshift",
           "sparkify_dw/copy/redshift.py",
           "max_error=options.max_error,", "max_error=200_000,"),
    Mutant("delimiter-with-json-copy", "DELIMITER with JSON (copy-parameters-data-format)",
           "sparkify_dw/copy/redshift.py",
           "format=Format.json,", 'format=Format.json,\n        delimiter="|",'),
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | error
    detail: str
    seconds: float


def copy_tree(into: Path) -> Path:
    tree = into / "tree"
    shutil.copytree(ROOT, tree, ignore=IGNORE)
    return tree


def run_tests(tree: Path, tests: list[str]) -> subprocess.CompletedProcess[str]:
    # Not the slow tests (the test that runs this script is one), one process, no bytecode
    # written: a restored file must never be read from a mutant's cached .pyc.
    environ = {k: v for k, v in os.environ.items() if k != "SPARKIFY_DB_URL"}
    environ.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(tree))
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "-n", "0",
               "-m", "not slow", *tests]  # fmt: skip
    return subprocess.run(
        command, cwd=tree, env=environ, capture_output=True, text=True, timeout=900, check=False
    )


def failed_tests(output: str) -> list[str]:
    return re.findall(r"^(?:FAILED|ERROR) (\S+)", output, flags=re.MULTILINE)


def check_imports(tree: Path) -> None:
    """The copy must import its own sparkify_dw, not the checkout's or an installed one."""
    environ = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    found = subprocess.run(
        [sys.executable, "-c", "import sparkify_dw; print(sparkify_dw.__file__)"],
        cwd=tree, env=environ, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"the copy imports sparkify_dw from {found}, not from {tree}")


def try_mutant(tree: Path, mutant: Mutant, tests: list[str]) -> Outcome:
    path = tree / mutant.path
    original = path.read_text(encoding="utf-8")
    count = original.count(mutant.old)
    if count != 1:
        return Outcome(mutant, "error", f"{mutant.path}: the text to replace occurs {count} "
                       "times (not once): update the mutant", 0.0)  # fmt: skip
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    started = time.monotonic()
    try:
        result = run_tests(tree, tests)
    finally:
        path.write_text(original, encoding="utf-8")
    seconds = time.monotonic() - started
    if result.returncode == 0:
        return Outcome(mutant, "survived", "every test passed", seconds)
    if result.returncode not in (1, 2):  # 1: tests failed; 2: collection errors (an import)
        return Outcome(mutant, "error", f"pytest exited {result.returncode}:\n"
                       f"{result.stdout[-2000:]}{result.stderr[-2000:]}", seconds)  # fmt: skip
    failed = failed_tests(result.stdout) or ["(collection failed)"]
    return Outcome(mutant, "killed", ", ".join(failed), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS),
                        help="test paths to run per mutant (default: %(default)s)")  # fmt: skip
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run these mutants only")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="every failing test")
    args = parser.parse_args(argv)
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.only and len(mutants) != len(set(args.only)):
        parser.error(f"unknown mutant among {args.only}; --list shows them")
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:30} {m.why}\n{'':30} {m.path}")
        return 0

    with tempfile.TemporaryDirectory(prefix="sparkify-mutants-") as tmp:
        tree = copy_tree(Path(tmp))
        check_imports(tree)
        baseline = run_tests(tree, args.tests)
        if baseline.returncode != 0:
            print(baseline.stdout[-4000:], baseline.stderr[-2000:], sep="\n")
            print("The unmutated copy fails its tests: fix that first.", file=sys.stderr)
            return 2
        print(f"unmutated copy: the tests pass ({', '.join(args.tests)})")
        outcomes = []
        for mutant in mutants:
            outcome = try_mutant(tree, mutant, args.tests)
            outcomes.append(outcome)
            detail = outcome.detail
            if outcome.status == "killed" and not args.verbose:
                tests = detail.split(", ")
                detail = tests[0] + (f" (+{len(tests) - 1} more)" if len(tests) > 1 else "")
            print(f"{outcome.status:8} {mutant.name:30} {outcome.seconds:5.1f}s  {detail}")
            sys.stdout.flush()

    killed = sum(o.status == "killed" for o in outcomes)
    print(f"\n{killed} of {len(outcomes)} mutants killed")
    bad = [o for o in outcomes if o.status != "killed"]
    for outcome in bad:
        print(f"{outcome.status.upper()}: {outcome.mutant.name}: {outcome.mutant.why}",
              file=sys.stderr)  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
