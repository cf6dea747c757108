"""Create load_errors: the rejects of every COPY, with STL_LOAD_ERRORS' fields.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "load_errors",
        sa.Column(
            "id",
            sa.BigInteger,
            sa.Identity(start=1, increment=1, minvalue=1),
            nullable=False,
            redshift_identity=(1, 1),
        ),
        sa.Column("load_id", sa.String(36), nullable=False),
        sa.Column("starttime", sa.DateTime, nullable=False),
        sa.Column("table_name", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(1024), nullable=False),
        sa.Column("line_number", sa.BigInteger, nullable=False),
        sa.Column("colname", sa.String(127)),
        sa.Column("type", sa.String(64)),
        sa.Column("raw_line", sa.String(1024)),
        sa.Column("raw_field_value", sa.String(1024)),
        sa.Column("err_code", sa.Integer, nullable=False),
        sa.Column("err_reason", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_errors")),
        redshift_diststyle="EVEN",
        redshift_sortkey="starttime",
    )


def downgrade() -> None:
    op.drop_table("load_errors")
