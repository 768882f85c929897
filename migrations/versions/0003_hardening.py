"""hardening: demo schools for the simulator

``schools.is_demo`` marks the schools made by ``seed-demo``: the only ones the
simulator may list or speak for. Existing demo schools (codes demo-primary and
demo-kg) are marked here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_demo', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE schools SET is_demo = TRUE WHERE code IN ('demo-primary', 'demo-kg')"))


def downgrade() -> None:
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('is_demo')
