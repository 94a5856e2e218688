"""node inbound legs: each cluster node publishes its live inbound legs per account with its lease

Revision ID: 0017_node_inbound_legs
Revises: 0016_conference_status_callback
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_node_inbound_legs"
down_revision = "0016_conference_status_callback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbound_legs", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_column("inbound_legs")
