"""administration: the operator's admin token (hashed), and accounts that can be disabled

Revision ID: 0013_admin
Revises: 0008_node_leases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import legato.store.tables

revision = "0013_admin"
down_revision = "0008_node_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_tokens",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", legato.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", legato.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", legato.store.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
    op.drop_table("admin_tokens")
