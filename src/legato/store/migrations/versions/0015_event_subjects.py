"""event subjects: each outbox event names its subject (leg, bridge, conference) in `subject` + `subject_sid`

Bridge and conference events were stored with their sid in `leg_sid`; existing rows get the subject whose
table holds that sid (a leg otherwise). `delivery_attempts.leg_sid` becomes `subject_sid` alike.

Revision ID: 0015_event_subjects
Revises: 0012_cluster
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_event_subjects"
down_revision = "0012_cluster"
branch_labels = None
depends_on = None

_events = sa.table("events", sa.column("subject", sa.String), sa.column("subject_sid", sa.String))
_OWNERS = (("bridge", sa.table("bridges", sa.column("bridge_sid")), "bridge_sid"),
           ("conference", sa.table("conferences", sa.column("conference_sid")), "conference_sid"))


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_events_leg_sequence", type_="unique")
        batch_op.alter_column("leg_sid", new_column_name="subject_sid", existing_type=sa.String(length=40),
                              existing_nullable=False)
        batch_op.add_column(sa.Column("subject", sa.String(length=12), nullable=True))
    op.execute(_events.update().values(subject="leg"))
    for subject, table, key in _OWNERS:
        op.execute(_events.update().where(_events.c.subject_sid.in_(sa.select(table.c[key]))).values(subject=subject))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(length=12), nullable=False)
        batch_op.create_unique_constraint("uq_events_subject_sequence", ["subject", "subject_sid", "sequence"])
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempts_leg_sid")
        batch_op.alter_column("leg_sid", new_column_name="subject_sid", existing_type=sa.String(length=40),
                              existing_nullable=False)
    op.create_index("ix_delivery_attempts_subject_sid", "delivery_attempts", ["subject_sid", "event_sid"])


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_attempts_subject_sid")
        batch_op.alter_column("subject_sid", new_column_name="leg_sid", existing_type=sa.String(length=40),
                              existing_nullable=False)
    op.create_index("ix_delivery_attempts_leg_sid", "delivery_attempts", ["leg_sid", "event_sid"])
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_events_subject_sequence", type_="unique")
        batch_op.drop_column("subject")
        batch_op.alter_column("subject_sid", new_column_name="leg_sid", existing_type=sa.String(length=40),
                              existing_nullable=False)
        batch_op.create_unique_constraint("uq_events_leg_sequence", ["leg_sid", "sequence"])
