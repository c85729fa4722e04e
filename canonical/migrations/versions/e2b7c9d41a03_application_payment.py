"""application payment id

Revision ID: e2b7c9d41a03
Revises: d81f3a6c5e02
Create Date: 2026-12-06 23:15:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'e2b7c9d41a03'
down_revision: str | None = 'd81f3a6c5e02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_payment_id'), ['payment_id'], unique=False)
    # A pulled payment's credit rows stored before name no payment, and which payment wrote
    # each cannot be told: they go, and every payment is read and written again at the next
    # sync (its ref's hash unread, its stream's mapping version unknown: a remap), which
    # writes them back naming their payment.
    application = sa.table(
        'application', sa.column('kind'), sa.column('origin'), sa.column('payment_id')
    )
    op.execute(
        application.delete().where(
            application.c.kind == 'credit_memo',
            application.c.origin.like('system:%'),
            application.c.payment_id.is_(None),
        )
    )
    ref = sa.table('external_ref', sa.column('canonical_type'), sa.column('hash'))
    op.execute(ref.update().where(ref.c.canonical_type == 'payment').values(hash=''))
    bookmark = sa.table('sync_bookmark', sa.column('stream'), sa.column('mapping_version'))
    op.execute(
        bookmark.update().where(bookmark.c.stream == 'payments').values(mapping_version=None)
    )


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_payment_id'))
        batch_op.drop_column('payment_id')
