"""console sign-outs: a session cookie signed out is refused until it would have expired

Revision ID: 0019_console_signouts
Revises: 0018_cluster_identity
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from legato.store.tables import UTCDateTime

revision = "0019_console_signouts"
down_revision = "0018_cluster_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_signouts",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_signouts")
