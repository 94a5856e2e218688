"""bridges

Revision ID: 0003
Revises: 0001 (the lead re-chains it after 0002 when merging)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import legato.store.tables

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bridges',
    sa.Column('bridge_sid', sa.String(length=40), nullable=False),
    sa.Column('account_sid', sa.String(length=64), nullable=False),
    sa.Column('call_sid', sa.String(length=40), nullable=False),
    sa.Column('dc_code', sa.String(length=32), nullable=True),
    sa.Column('leg_sids', sa.JSON(), nullable=False),
    sa.Column('bridge_event_endpoint', sa.Text(), nullable=True),
    sa.Column('end_on_exit', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('end_reason', sa.String(length=64), nullable=True),
    sa.Column('ended_by_leg_sid', sa.String(length=40), nullable=True),
    sa.Column('date_created', legato.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('date_updated', legato.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('end_time', legato.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('event_sequence', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bridge_sid')
    )
    with op.batch_alter_table('bridges', schema=None) as batch_op:
        batch_op.create_index('ix_bridges_account_sid_bridge_sid', ['account_sid', 'bridge_sid'], unique=False)
        batch_op.create_index('ix_bridges_state', ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bridges', schema=None) as batch_op:
        batch_op.drop_index('ix_bridges_state')
        batch_op.drop_index('ix_bridges_account_sid_bridge_sid')
    op.drop_table('bridges')
