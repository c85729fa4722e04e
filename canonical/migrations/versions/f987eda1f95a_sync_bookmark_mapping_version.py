"""sync bookmark mapping version

Revision ID: f987eda1f95a
Revises: b3e1d2c4a5f6
Create Date: 2026-12-05 17:39:53.929274
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'f987eda1f95a'
down_revision: str | None = 'b3e1d2c4a5f6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sync_bookmark', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mapping_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_bookmark', schema=None) as batch_op:
        batch_op.drop_column('mapping_version')

