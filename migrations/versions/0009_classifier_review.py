"""classifier v2: the safety review tier (疑似紧急) and labelled corrections of kind and urgency

* tickets.needs_review: flagged as a possible danger without being rated urgent; shown at once to
  the head teacher and the on-duty leader (确认紧急 / 非紧急), escalated after tickets.review_minutes.
  reviewed_at / reviewed_by_id record who answered and when.
* classifier_corrections: school, kind and urgency before/after (改为, 确认紧急, 非紧急), besides
  the category of 改类, so every correction is a labelled example for `classifier train --with-corrections`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_review', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tickets_reviewed_by_id_staff'), 'staff', ['reviewed_by_id'], ['id'])
        batch_op.create_index('ix_tickets_needs_review_created', ['needs_review', 'created_at'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('needs_review', server_default=None)
    for name, column in (('school_id', sa.Integer()), ('from_kind', sa.String(20)), ('to_kind', sa.String(20)),
                         ('from_urgency', sa.String(10)), ('to_urgency', sa.String(10))):
        op.add_column('classifier_corrections', sa.Column(name, column, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('classifier_corrections', schema=None) as batch_op:
        for name in ('to_urgency', 'from_urgency', 'to_kind', 'from_kind', 'school_id'):
            batch_op.drop_column(name)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_needs_review_created')
        batch_op.drop_constraint(batch_op.f('fk_tickets_reviewed_by_id_staff'), type_='foreignkey')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('needs_review')
