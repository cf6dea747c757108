"""A smoke test on a real Redshift cluster or Serverless workgroup: what CI cannot run.

Given a warehouse (a `redshift+redshift_connector://` URL, or a dwh.cfg with [CLUSTER] and
[IAM_ROLE]), it loads the public Sparkify data from `s3://udacity-dend` (us-west-2) with the
library's own `load` (migrations, the lock, both COPYs, the merges), runs every data-quality
check and every analytics query, and compares the five star tables with the data contract
computed independently in plain Python (`tests/oracle.py`) from a local copy of the same files
(`--reference-data`, e.g. ../shared/reference-data/sparkify, or downloaded with `--download`).
It prints one line per step and exits 1 on the first difference or failed check, 0 when the
warehouse holds what the contract says.

    PYTHONPATH=. .venv/bin/python scripts/redshift_smoke.py --config dwh.cfg \
        --reference-data ../shared/reference-data/sparkify
    PYTHONPATH=. .venv/bin/python scripts/redshift_smoke.py --dry-run --config dwh.cfg

The target must be a database you can empty: the load is a full refresh of the star tables.
`--dry-run` connects to nothing: it prints the plan and the script `sparkify-dw sql` would send.
The Redshift Data API is not supported: give a URL or a dwh.cfg (IAM authentication works
through the URL, `?iam=true&cluster_identifier=…`, see the README).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PUBLIC = {
    "song_data": "s3://udacity-dend/song_data",
    "log_data": "s3://udacity-dend/log_data",
    "log_jsonpath": "s3://udacity-dend/log_json_path.json",
}
PUBLIC_REGION = "us-west-2"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", help="redshift+redshift_connector://user:pw@host:5439/db")
    parser.add_argument("--config", type=Path, help="a dwh.cfg ([CLUSTER], [IAM_ROLE], [S3])")
    parser.add_argument("--iam-role-arn", help="the role COPY assumes (else [IAM_ROLE] ARN)")
    parser.add_argument(
        "--reference-data", type=Path, help="a local copy of the public data, for the oracle"
    )
    parser.add_argument(
        "--download", action="store_true", help="download the public data for the oracle"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan; connect to nothing")
    return parser.parse_args(argv)


def say(text: str) -> None:
    print(text, flush=True)


def download(folder: Path) -> Path:
    """The public data, copied from S3 (boto3, the caller's credentials) into `folder`."""
    from sparkify_dw.sources import list_objects, read_objects

    for name in ("song_data", "log_data"):
        objects = list_objects(PUBLIC[name])
        say(f"downloading {len(objects)} objects of {PUBLIC[name]}")
        for obj, stream in read_objects(objects):
            target = folder / obj.url.removeprefix("s3://udacity-dend/")
            target.parent.mkdir(parents=True, exist_ok=True)
            with stream:
                target.write_bytes(stream.read())
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from sparkify_dw.config import Settings
    from sparkify_dw.script import run_script

    settings = Settings.resolve(
        config_file=args.config,
        db_url=args.db_url,
        iam_role_arn=args.iam_role_arn,
        region=PUBLIC_REGION,
        song_data=PUBLIC["song_data"],
        log_data=PUBLIC["log_data"],
        log_jsonpath=PUBLIC["log_jsonpath"],
    )
    if args.dry_run:
        say(f"would load {PUBLIC['log_data']} and {PUBLIC['song_data']} ({PUBLIC_REGION})")
        say("would run every check and every analytics query, then compare with the oracle")
        say(run_script("redshift", settings, full_refresh_=True))
        return 0
    if args.reference_data is None and not args.download:
        say("give --reference-data FOLDER (a copy of the public data) or --download")
        return 2
    with tempfile.TemporaryDirectory(prefix="sparkify-smoke-") as scratch:
        data = args.reference_data or download(Path(scratch))
        return smoke(settings, data)


def smoke(settings: object, data: Path) -> int:
    from sparkify_dw import load
    from sparkify_dw.analytics.registry import QUERIES, run_query
    from sparkify_dw.checks import run_checks
    from sparkify_dw.config import Settings
    from sparkify_dw.db import make_engine
    from tests.oracle import actual_tables, expected_tables

    assert isinstance(settings, Settings)
    engine = make_engine(settings.db_url)
    try:
        options = settings.stage_options()
        report = load(
            engine,
            song_data=options.song_data,
            log_data=options.log_data,
            log_jsonpath=options.log_jsonpath,
            iam_role_arn=options.iam_role_arn,
            region=options.region,
            full_refresh=True,
        )
        say(f"load {report.load_id}: {len(report.rejects)} reject(s)")
        failed = [c for c in run_checks(engine) if not c.passed]
        for check in failed:
            say(f"check failed: {check.name} ({check.offending} row(s))")
        for name in QUERIES:
            rows = run_query(engine, name).rows
            say(f"query {name}: {len(rows)} row(s)")
        expected = expected_tables(data / "song_data", data / "log_data")
        with engine.connect() as connection:
            actual = actual_tables(connection)
    finally:
        engine.dispose()
    differences = [
        table for table in ("songplays", "users", "songs", "artists", "time")
        if getattr(actual, table) != getattr(expected, table)
    ]  # fmt: skip
    for table in differences:
        say(f"{table}: differs from the data contract")
    if report.rejects or failed or differences:
        return 1
    say("the warehouse holds what the data contract says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
