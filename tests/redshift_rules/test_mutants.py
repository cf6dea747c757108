"""`scripts/redshift_mutants.py` breaks a copy of the project the ways Redshift would refuse
(ENCODE az64 on a DOUBLE PRECISION column, VARCHAR(70000), a TIMEFORMAT typo, MAXERROR
200000, …) and expects the Redshift rule tests to fail on each. About half a minute."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import python

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "redshift_mutants.py"


@pytest.mark.slow
def test_every_redshift_breaking_mutant_is_killed(tmp_path: Path) -> None:
    listed = python(str(SCRIPT), "--list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    mutants = len(listed.stdout.splitlines()) // 2
    assert mutants >= 10
    result = python(str(SCRIPT), cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{mutants} of {mutants} mutants killed" in result.stdout
    assert "survived" not in result.stdout
