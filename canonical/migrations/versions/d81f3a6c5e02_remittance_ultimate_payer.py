"""remittance ultimate payer: whom a shared-service centre or parent paid for

Revision ID: d81f3a6c5e02
Revises: c4a7e91d2b30
Create Date: 2026-12-06 11:10:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'd81f3a6c5e02'
down_revision: str | None = 'c4a7e91d2b30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('remittance', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'ultimate_payer_name',
                sqlmodel.sql.sqltypes.AutoString(length=255),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table('remittance', schema=None) as batch_op:
        batch_op.drop_column('ultimate_payer_name')
