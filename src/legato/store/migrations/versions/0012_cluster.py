"""cluster: what a node serves (data centres), its load and its bus subject, published with its lease

Revision ID: 0012_cluster
Revises: 0009_conferences
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_cluster"
down_revision = "0009_conferences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_centres", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("live_legs", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("bus", sa.Boolean(), nullable=True))
    op.create_index("ix_legs_node", "legs", ["node"])  # takeover finds a dead node's legs
    op.create_index("ix_bridges_node", "bridges", ["node"])


def downgrade() -> None:
    op.drop_index("ix_bridges_node", table_name="bridges")
    op.drop_index("ix_legs_node", table_name="legs")
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_column("bus")
        batch_op.drop_column("live_legs")
        batch_op.drop_column("data_centres")
