"""invoice payment terms and early-payment discount

Revision ID: b3e1d2c4a5f6
Revises: 78d328eaea85
Create Date: 2026-11-22 21:50:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'b3e1d2c4a5f6'
down_revision: str | None = '78d328eaea85'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terms', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('discount_basis_points', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('discount_until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoice', schema=None) as batch_op:
        batch_op.drop_column('discount_until')
        batch_op.drop_column('discount_basis_points')
        batch_op.drop_column('terms')
