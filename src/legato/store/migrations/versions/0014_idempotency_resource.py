"""idempotency keys: the resource a first request made (bound before it became durable)

Revision ID: 0014_idempotency_resource
Revises: 0013_admin
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_idempotency_resource"
down_revision = "0013_admin"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("resource_sid", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("idempotency_keys", "resource_sid")
