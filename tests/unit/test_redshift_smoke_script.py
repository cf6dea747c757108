"""scripts/redshift_smoke.py, which only a real cluster can run, is at least ready: its dry run
builds the Redshift script for the public data without connecting, and it refuses to compare
without the data the oracle needs."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import python

ROOT = Path(__file__).resolve().parents[2]
URL = "redshift+redshift_connector://awsuser:Sup3rS3cret@cluster.example:5439/dev"
ROLE = "arn:aws:iam::123456789012:role/dwhRole"


def test_the_dry_run_prints_the_load_of_the_public_data_and_no_secret() -> None:
    result = python(
        "scripts/redshift_smoke.py", "--dry-run", "--db-url", URL, "--iam-role-arn", ROLE, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "COPY staging_events FROM 's3://udacity-dend/log_data'" in result.stdout
    assert "REGION 'us-west-2'" in result.stdout
    assert "Sup3rS3cret" not in result.stdout + result.stderr


def test_without_the_oracle_data_it_says_what_to_give() -> None:
    result = python("scripts/redshift_smoke.py", "--db-url", URL, "--iam-role-arn", ROLE, cwd=ROOT)
    assert result.returncode == 2
    assert "--reference-data" in result.stdout
