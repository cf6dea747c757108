"""PostgreSQL: the play identity's indexes lead with start_time.

A daily load's merges look up the day's plays among every play stored (`DELETE FROM
merge_songplays USING songplays …`). With the unique index on (user_id, session_id,
start_time), PostgreSQL could only hash-join over a scan of the whole table (0.5 s a merge on a
3M-play warehouse, growing with it); led by start_time, the merges' bound on the batch's time
range (`Merge.ranged`) is a range scan of the day's entries, and a day's new plays are
appended at the index's right edge instead of all over it. The same columns, in another
order: the keys are unchanged.

PostgreSQL only: DuckDB's ART indexes serve neither ranges nor joins (and DuckDB cannot change
a key without rebuilding the table), and Redshift's keys are informational (its sort key is
start_time already).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLAY = ["user_id", "session_id", "start_time"]
BY_TIME = ["start_time", "user_id", "session_id"]


def _order(columns: list[str]) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.drop_constraint("uq_songplays_play", "songplays", type_="unique")
    op.create_unique_constraint("uq_songplays_play", "songplays", columns)
    op.drop_constraint("pk_play_keys", "play_keys", type_="primary")
    op.create_primary_key("pk_play_keys", "play_keys", columns)


def upgrade() -> None:
    _order(BY_TIME)


def downgrade() -> None:
    _order(PLAY)
