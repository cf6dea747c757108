"""The data-quality checks (sparkify_dw.checks) as Redshift receives them: valid Redshift SQL.

The checks on DuckDB and PostgreSQL: tests/integration/test_checks.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.checks import CHECKS, Check
from tests.helpers import parse_redshift

REDSHIFT = RedshiftDialect_redshift_connector()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_every_check_compiles_for_redshift_and_parses_as_redshift_sql(check: Check) -> None:
    for query in (check.count(), check.examples()):
        compiled = query.compile(dialect=REDSHIFT, compile_kwargs={"literal_binds": True})
        sql = " ".join(str(compiled).split())
        parse_redshift(sql)
        assert "IS DISTINCT FROM" not in sql  # Redshift has no IS DISTINCT FROM
