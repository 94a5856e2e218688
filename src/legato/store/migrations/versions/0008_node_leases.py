"""node leases: the nodes table, and the owner node and epoch of legs and bridges

Revision ID: 0008_node_leases
Revises: 0007_account_region
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import legato.store.tables

revision = "0008_node_leases"
down_revision = "0007_account_region"
branch_labels = None
depends_on = None

DEFAULT_NODE = "default"  # legs left live before leases existed belong to the default node name


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", legato.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", legato.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", legato.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    for table in ("legs", "bridges"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("node", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("node_epoch", sa.Integer(), nullable=True))
    op.execute(sa.text(f"UPDATE legs SET node = '{DEFAULT_NODE}', node_epoch = 0 WHERE state != 'terminal'"))
    op.execute(sa.text(f"UPDATE bridges SET node = '{DEFAULT_NODE}', node_epoch = 0 WHERE state = 'active'"))


def downgrade() -> None:
    for table in ("bridges", "legs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("node_epoch")
            batch_op.drop_column("node")
    op.drop_table("nodes")
