"""remittance reverses

Revision ID: 6d6916265173
Revises: f987eda1f95a
Create Date: 2026-12-05 17:45:54.031927
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '6d6916265173'
down_revision: str | None = 'f987eda1f95a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('remittance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reverses', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('remittance', schema=None) as batch_op:
        batch_op.drop_column('reverses')

