"""inbound messages as the webhook inbox: envelope column, status index

The webhook now stores a message and answers before handling it; the
envelope keeps what the adapter derived (mentions, reply handle) so that a
stored message can be handled later, and the (status, received_at) index
serves the scheduler's process_inbox sweep.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('envelope', sa.JSON(), nullable=True))
        batch_op.create_index('ix_inbound_messages_status_received_at', ['status', 'received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_messages_status_received_at')
        batch_op.drop_column('envelope')
