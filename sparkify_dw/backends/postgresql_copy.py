"""PostgreSQL's fast COPY path: DuckDB (in memory) reads, checks and converts the files as for a
DuckDB warehouse (backends/duckdb_copy.py); the rows of the files that pass reach PostgreSQL as
CSV through its COPY … FROM STDIN, in the load's transaction."""

from __future__ import annotations

from sparkify_dw.backends.duckdb_copy import DuckDBFastCopy, Unit, remove_file
from sparkify_dw.backends.duckdb_sql import quote
from sparkify_dw.backends.postgresql import copy_from_stdin


class PostgresFastCopy(DuckDBFastCopy):
    """PostgreSQL's fast path: DuckDB, in memory, reads, checks and converts the files as for
    a DuckDB warehouse; the rows of the files that pass go to PostgreSQL through a CSV file and
    its COPY … FROM STDIN, in the load's transaction. (PostgreSQL parsing the JSON itself, with
    jsonb, was measured slower than the record-by-record emulation: benchmarks/README.md.)"""

    def _insert(self, units: list[Unit]) -> None:
        values = ", ".join(value for value, _ in self.columns)
        rows = self.scratch_file("rows", "csv")
        # DuckDB writes NULL as an empty field and "" quoted, as PostgreSQL's CSV reads them.
        self._execute(
            self._checking(),
            f"COPY (SELECT {values} FROM {self._source(units)}) TO {quote(rows)} "
            "(FORMAT csv, HEADER false)",
            units,
        )
        statement = copy_from_stdin(self.table, "(FORMAT csv)")
        raw = self.connection.connection.driver_connection
        assert raw is not None
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy, open(rows, "rb") as data:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
        finally:
            remove_file(rows)
