"""lease: one reconcile (one sync) at a time across processes

Revision ID: c4a7e91d2b30
Revises: 51896c668667
Create Date: 2026-12-06 10:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import canonical.types

revision: str = 'c4a7e91d2b30'
down_revision: str | None = '51896c668667'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'lease',
        sa.Column('tenant', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('acquired_at', canonical.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', canonical.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('tenant', 'name'),
    )


def downgrade() -> None:
    op.drop_table('lease')
