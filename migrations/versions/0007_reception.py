"""校长接待日, 学校开放日 / 家长课程 and 网格 referral (issue 17)

* reception_schedules / reception_bookings: a school's reception day and the
  parents' slots (``slot_key`` unique while a booking holds its slot).
* open_days / open_day_signups: events with seats, sign-ups (waiting list),
  attendance per family and the three-question feedback.
* grid_contacts / ticket_referrals: the community grid and the tickets handed
  to it (转属地), with the grid's feedback.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 19:20:13.614925
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('grid_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('area', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('platform', sa.String(length=20), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_grid_contacts_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_contacts')),
    sa.UniqueConstraint('school_id', 'name', name=op.f('uq_grid_contacts_school_id_name'))
    )
    with op.batch_alter_table('grid_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_contacts_school_id'), ['school_id'], unique=False)

    op.create_table('reception_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('pattern', sa.String(length=10), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('nth', sa.Integer(), nullable=True),
    sa.Column('starts', sa.String(length=5), nullable=False),
    sa.Column('ends', sa.String(length=5), nullable=False),
    sa.Column('slots', sa.Integer(), nullable=False),
    sa.Column('rota', sa.JSON(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_reception_schedules_created_by_id_staff')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_reception_schedules_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_schedules'))
    )
    with op.batch_alter_table('reception_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_schedules_school_id'), ['school_id'], unique=False)

    op.create_table('open_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('starts_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('scope_label', sa.String(length=200), nullable=False),
    sa.Column('class_ids', sa.JSON(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('info', sa.Text(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('feedback_sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_open_days_created_by_id_staff')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_open_days_notice_id_notices')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_open_days_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open_days'))
    )
    with op.batch_alter_table('open_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_days_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_days_school_id'), ['school_id'], unique=False)

    op.create_table('open_day_signups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('open_day_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('identity_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.Column('reminded_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('feedback_asked_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lesson', sa.Integer(), nullable=True),
    sa.Column('order_rating', sa.Integer(), nullable=True),
    sa.Column('suggestion', sa.Text(), nullable=True),
    sa.Column('feedback_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ticket_number', sa.String(length=20), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_open_day_signups_identity_id_identities')),
    sa.ForeignKeyConstraint(['open_day_id'], ['open_days.id'], name=op.f('fk_open_day_signups_open_day_id_open_days'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_open_day_signups_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open_day_signups')),
    sa.UniqueConstraint('open_day_id', 'student_id', name=op.f('uq_open_day_signups_open_day_id_student_id'))
    )
    with op.batch_alter_table('open_day_signups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open_day_signups_identity_id'), ['identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_open_day_signups_open_day_id'), ['open_day_id'], unique=False)

    op.create_table('reception_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('slot_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('slot_key', sa.String(length=60), nullable=True),
    sa.Column('identity_id', sa.Integer(), nullable=False),
    sa.Column('guardianship_id', sa.Integer(), nullable=True),
    sa.Column('student_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('host_staff_id', sa.Integer(), nullable=True),
    sa.Column('reminded_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('record', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ticket_numbers', sa.JSON(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['guardianship_id'], ['guardianships.id'], name=op.f('fk_reception_bookings_guardianship_id_guardianships')),
    sa.ForeignKeyConstraint(['host_staff_id'], ['staff.id'], name=op.f('fk_reception_bookings_host_staff_id_staff')),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_reception_bookings_identity_id_identities')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], name=op.f('fk_reception_bookings_recorded_by_id_staff')),
    sa.ForeignKeyConstraint(['schedule_id'], ['reception_schedules.id'], name=op.f('fk_reception_bookings_schedule_id_reception_schedules')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_reception_bookings_school_id_schools')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_reception_bookings_student_id_students')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_bookings')),
    sa.UniqueConstraint('slot_key', name=op.f('uq_reception_bookings_slot_key'))
    )
    with op.batch_alter_table('reception_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_bookings_identity_id'), ['identity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_bookings_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index('ix_reception_bookings_school_slot', ['school_id', 'slot_at'], unique=False)

    op.create_table('ticket_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('contact_label', sa.String(length=160), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.Column('referred_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('referred_by_id', sa.Integer(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('feedback_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['grid_contacts.id'], name=op.f('fk_ticket_referrals_contact_id_grid_contacts')),
    sa.ForeignKeyConstraint(['referred_by_id'], ['staff.id'], name=op.f('fk_ticket_referrals_referred_by_id_staff')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_ticket_referrals_school_id_schools')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_referrals_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_referrals')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_ticket_referrals_ticket_id'))
    )
    with op.batch_alter_table('ticket_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_referrals_school_id'), ['school_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_referrals_school_id'))

    op.drop_table('ticket_referrals')
    with op.batch_alter_table('reception_bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_reception_bookings_school_slot')
        batch_op.drop_index(batch_op.f('ix_reception_bookings_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_reception_bookings_identity_id'))

    op.drop_table('reception_bookings')
    with op.batch_alter_table('open_day_signups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_day_signups_open_day_id'))
        batch_op.drop_index(batch_op.f('ix_open_day_signups_identity_id'))

    op.drop_table('open_day_signups')
    with op.batch_alter_table('open_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open_days_school_id'))
        batch_op.drop_index(batch_op.f('ix_open_days_notice_id'))

    op.drop_table('open_days')
    with op.batch_alter_table('reception_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reception_schedules_school_id'))

    op.drop_table('reception_schedules')
    with op.batch_alter_table('grid_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_contacts_school_id'))

    op.drop_table('grid_contacts')
