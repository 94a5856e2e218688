"""conferences: one row per conference, its participants as JSON (events go to the outbox)

Revision ID: 0009_conferences
Revises: 0014_idempotency_resource
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import legato.store.tables

revision = "0009_conferences"
down_revision = "0014_idempotency_resource"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = legato.store.tables.UTCDateTime(timezone=True)
    op.create_table(
        "conferences",
        sa.Column("conference_sid", sa.String(length=40), nullable=False),
        sa.Column("account_sid", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("conference_event_endpoint", sa.Text(), nullable=True),
        sa.Column("event_format", sa.String(length=32), nullable=True),
        sa.Column("record", sa.Boolean(), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("end_when_empty", sa.Boolean(), nullable=False),
        sa.Column("dc_code", sa.String(length=32), nullable=True),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.Column("recording_url", sa.Text(), nullable=True),
        sa.Column("date_created", when, nullable=False),
        sa.Column("date_updated", when, nullable=False),
        sa.Column("end_time", when, nullable=True),
        sa.Column("event_sequence", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("node_epoch", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("conference_sid"),
    )
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.create_index("ix_conferences_account_sid_conference_sid", ["account_sid", "conference_sid"])
        batch_op.create_index("ix_conferences_state", ["state"])


def downgrade() -> None:
    with op.batch_alter_table("conferences", schema=None) as batch_op:
        batch_op.drop_index("ix_conferences_state")
        batch_op.drop_index("ix_conferences_account_sid_conference_sid")
    op.drop_table("conferences")
