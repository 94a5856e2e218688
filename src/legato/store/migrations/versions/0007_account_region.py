"""accounts: default_region and allowed caller ids; fingerprints of the secret key

Revision ID: 0007_account_region
Revises: 0006_idempotency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import legato.store.tables

revision = "0007_account_region"
down_revision = "0006_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_region", sa.String(length=2), nullable=False, server_default="IN"))
        batch_op.add_column(sa.Column("caller_ids", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "secret_keys",
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", legato.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("purpose"),
    )


def downgrade() -> None:
    op.drop_table("secret_keys")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("caller_ids")
        batch_op.drop_column("default_region")
