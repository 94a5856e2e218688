"""conference status callback: a TwiML <Conference statusCallback>'s events and method, kept with the conference

Revision ID: 0016_conference_status_callback
Revises: 0015_event_subjects
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_conference_status_callback"
down_revision = "0015_event_subjects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_callback", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.drop_column("status_callback")
