"""idempotency keys

Revision ID: 0006_idempotency
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import legato.store.tables

revision = "0006_idempotency"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("account_sid", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", legato.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_sid", "idempotency_key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
