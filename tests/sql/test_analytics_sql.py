"""The analytics queries as Redshift receives them: valid Redshift SQL, with each filter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.analytics import QUERIES
from tests.helpers import parse_redshift

REDSHIFT = RedshiftDialect_redshift_connector()
ALL_FILTERS: dict[str, Any] = {
    "since": "2018-11-02",
    "until": dt.datetime(2018, 11, 20, 12),
    "level": "paid",
    "limit": 5,
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_each_query_compiles_for_redshift_and_parses_as_redshift_sql(name: str) -> None:
    query = QUERIES[name]
    filters = {k: v for k, v in ALL_FILTERS.items() if k in query.filters}
    sql = str(
        query.statement(**filters).compile(dialect=REDSHIFT, compile_kwargs={"literal_binds": True})
    )
    parse_redshift(sql)
    assert "'2018-11-02 00:00:00'" in sql
    if "level" in query.filters:
        assert "songplays.level = 'paid'" in sql
    if "limit" in query.filters:
        assert sql.rstrip().endswith("LIMIT 5")
