"""reach: 家校通讯录 sync state

``contact_syncs`` remembers, per school, how many contact-change events asked
for a read of its 家校通讯录 (``requests``), how many the last good read
covered, the last event (so a redelivery asks nothing) and why the last read
was refused. ``outbox.error_code`` grows from 30 to 64 characters: DingTalk's
error codes are words (``Forbidden.AccessDenied.AccessTokenPermissionDenied``
is 50) and a longer one failed the sender's commit on PostgreSQL.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('error_code', existing_type=sa.String(length=30), type_=sa.String(length=64),
                              existing_nullable=True)
    op.create_table('contact_syncs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('covered', sa.Integer(), nullable=False),
    sa.Column('requested_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('synced_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_event', sa.String(length=200), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_contact_syncs_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_syncs')),
    sa.UniqueConstraint('school_id', name=op.f('uq_contact_syncs_school_id'))
    )


def downgrade() -> None:
    op.drop_table('contact_syncs')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('error_code', existing_type=sa.String(length=64), type_=sa.String(length=30),
                              existing_nullable=True)
