"""users.source_session_id and users.source_item_in_session: a stored user's place in the
contract's total order of events.

The data contract orders a user's events by ts, then session_id, item_in_session, level,
first_name, last_name, gender, and the last one gives the user's attributes, whatever batch
brought it. The merge can compare a staged event with the stored one only if the stored row
keeps what it needs of that order: `source_ts` and the attributes were there; these two
columns are the rest. Nullable: Redshift cannot add a NOT NULL column without a default, and
rows stored before this revision do not know them; NULL sorts before any value, so the next
event of the same ts replaces such a row (the order of later loads holds from then on).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("source_session_id", "source_item_in_session")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("users", sa.Column(name, sa.Integer, redshift_encode="az64"))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("users", name)
