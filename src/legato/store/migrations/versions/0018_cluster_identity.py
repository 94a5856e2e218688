"""cluster identity: one random id per database, so clusters sharing a NATS server keep to their own subjects

Revision ID: 0018_cluster_identity
Revises: 0017_node_inbound_legs
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0018_cluster_identity"
down_revision = "0017_node_inbound_legs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "cluster_identity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cluster_id", sa.String(32), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "cluster_id": secrets.token_hex(8)}])


def downgrade() -> None:
    op.drop_table("cluster_identity")
