"""pictures and files: attachments (ticket evidence, notice attachments) and the database media store

* attachments: who sent which bytes (sha256) and what they belong to: a
  ticket, a notice, or nothing yet (waiting to be joined to a matter).
* media_blobs: the bytes, once per sha256, when ``media.store`` is
  ``database`` (PostgreSQL bytea); the ``folder`` store keeps files instead.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'media_blobs',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_media_blobs')),
    )
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('mime', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('identity_id', sa.Integer(), nullable=True),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('inbound_id', sa.Integer(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('notice_id', sa.Integer(), nullable=True),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attached_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('purged_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_attachments_identity_id_identities')),
        sa.ForeignKeyConstraint(['inbound_id'], ['inbound_messages.id'],
                                name=op.f('fk_attachments_inbound_id_inbound_messages')),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_attachments_notice_id_notices'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_attachments_school_id_schools')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_attachments_staff_id_staff')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_attachments_ticket_id_tickets'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    )
    op.create_index('ix_attachments_identity_created', 'attachments', ['identity_id', 'created_at'], unique=False)
    op.create_index('ix_attachments_staff_created', 'attachments', ['staff_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_attachments_notice_id'), 'attachments', ['notice_id'], unique=False)
    op.create_index(op.f('ix_attachments_school_id'), 'attachments', ['school_id'], unique=False)
    op.create_index(op.f('ix_attachments_sha256'), 'attachments', ['sha256'], unique=False)
    op.create_index(op.f('ix_attachments_ticket_id'), 'attachments', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_table('attachments')
    op.drop_table('media_blobs')
