"""conversations that lose nothing: queued "which child?" questions, deployment-wide ticket numbers

* pending_questions: a parent of two may have several "which child?" questions
  (one per message), so (identity_id, kind) is no longer unique; ``waiting``
  marks questions queued behind the one being asked; (kind, expires_at) serves
  the sweep that settles unanswered questions.
* schools.ticket_prefix: the school part of the deployment-wide ticket number
  (T1-2026-0001), fixed at the school's first ticket; schools that already
  have tickets get their code upper-cased.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('pending_questions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_pending_questions_identity_id_kind', type_='unique')
        batch_op.add_column(sa.Column('waiting', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_pending_questions_kind_expires_at', ['kind', 'expires_at'], unique=False)
    with op.batch_alter_table('pending_questions', schema=None) as batch_op:
        batch_op.alter_column('waiting', server_default=None)
    # Plain ADD COLUMN and a unique index: no rebuild of a table other tables reference (SQLite).
    op.add_column('schools', sa.Column('ticket_prefix', sa.String(length=44), nullable=True))
    op.create_index('ix_schools_ticket_prefix', 'schools', ['ticket_prefix'], unique=True)
    op.execute("UPDATE schools SET ticket_prefix = upper(code) WHERE id IN (SELECT DISTINCT school_id FROM tickets)")


def downgrade() -> None:
    op.drop_index('ix_schools_ticket_prefix', table_name='schools')
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch rebuild would drop a table others reference.
    op.execute("ALTER TABLE schools DROP COLUMN ticket_prefix")
    # Keep the question being asked of each kind; queued ones cannot survive the unique constraint.
    op.execute("DELETE FROM pending_questions WHERE waiting")
    op.execute("DELETE FROM pending_questions WHERE id NOT IN "
               "(SELECT MIN(id) FROM pending_questions GROUP BY identity_id, kind)")
    with op.batch_alter_table('pending_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_questions_kind_expires_at')
        batch_op.drop_column('waiting')
        batch_op.create_unique_constraint('uq_pending_questions_identity_id_kind', ['identity_id', 'kind'])
