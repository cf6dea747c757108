"""DuckDB and PostgreSQL against what Redshift would do.

Epoch milliseconds become the same timestamps on every engine, PostgreSQL running the very SQL
Redshift receives, and Python's own arithmetic the independent oracle.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy_redshift.dialect import RedshiftDialect_redshift_connector

from sparkify_dw.sql import EpochMsToTimestamp

EPOCH = dt.datetime(1970, 1, 1)


# Epoch milliseconds -----------------------------------------------------------------------------

EPOCH_CASES = [
    0,
    1,
    999,
    1000,
    1001,
    1541105830796,  # the data contract's example: 2018-11-01 20:57:10.796
    2**31 * 1000 - 1,  # the last millisecond whose whole seconds fit an INT
    2**31 * 1000,
    -1,  # before the epoch: BIGINT division truncates toward zero, MOD keeps the sign
    -999,
    -1000,
    -1001,
    -86_400_001,
    -62_135_596_800_000,  # 0001-01-01 00:00:00
    253_402_300_799_999,  # 9999-12-31 23:59:59.999
]


def test_epoch_milliseconds_are_the_same_timestamps_on_every_engine(engine: Engine) -> None:
    epochs = sa.Table("epoch_cases", sa.MetaData(), sa.Column("ts", sa.BigInteger))
    converted = EpochMsToTimestamp(epochs.c.ts)
    if engine.dialect.name == "postgresql":  # the very SQL Redshift receives
        redshift = converted.compile(dialect=RedshiftDialect_redshift_connector())
        assert str(converted.compile(dialect=engine.dialect)) == str(redshift)
    with engine.begin() as connection:
        epochs.create(connection)
        connection.execute(epochs.insert(), [{"ts": ts} for ts in EPOCH_CASES])
        rows = {ts: at for ts, at in connection.execute(sa.select(epochs.c.ts, converted))}
    assert rows == {ts: EPOCH + dt.timedelta(milliseconds=ts) for ts in EPOCH_CASES}
