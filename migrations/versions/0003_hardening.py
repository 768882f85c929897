"""hardening and platform reach: demo schools, DingTalk signs used once, binding locks, group robots

``schools.is_demo`` marks the schools made by ``seed-demo``: the only ones the
simulator may list or speak for. Existing demo schools (codes demo-primary and
demo-kg) are marked here. ``students.bind_*`` count wrong binding guesses at a
student from any account and lock that student's phone binding.
``chat_groups.robot_key`` is a class group's own WeCom group robot (a robot
posts to its one group only). ``request_signatures`` remembers each DingTalk
(timestamp, sign) pair for its hour with the one message it carried.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_demo', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE schools SET is_demo = TRUE WHERE code IN ('demo-primary', 'demo-kg')"))
    with op.batch_alter_table('chat_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('robot_key', sa.String(length=100), nullable=True))
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bind_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('bind_failures_since', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('bind_locked_until', models.base.UTCDateTime(timezone=True), nullable=True))
    op.create_table('request_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('platform_msg_id', sa.String(length=128), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_request_signatures')),
    sa.UniqueConstraint('platform', 'signature', name=op.f('uq_request_signatures_platform_signature'))
    )
    with op.batch_alter_table('request_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_signatures_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_table('request_signatures')
    with op.batch_alter_table('chat_groups', schema=None) as batch_op:
        batch_op.drop_column('robot_key')
    with op.batch_alter_table('students', schema=None) as batch_op:
        batch_op.drop_column('bind_locked_until')
        batch_op.drop_column('bind_failures_since')
        batch_op.drop_column('bind_failures')
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('is_demo')
