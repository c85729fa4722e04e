"""webhook event note: why an ignored delivery moved no cash

Revision ID: 0b3b88089cc4
Revises: 6d6916265173
Create Date: 2026-12-05 22:10:41.586198
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0b3b88089cc4'
down_revision: str | None = '6d6916265173'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_event', schema=None) as batch_op:
        batch_op.drop_column('note')
