"""runstatus SKIPPED: the enum value RunStatus.SKIPPED came without a migration

On PostgreSQL a store built by migrations lacked the label 'SKIPPED' of the native enum type
``runstatus`` that ``create_all`` gives a new store. SQLite keeps enums as plain strings (no
CHECK constraint): nothing to change there.

``ALTER TYPE ... ADD VALUE`` runs inside the migrations' transaction on PostgreSQL 12 and later
(the value cannot be used before that transaction commits; no later migration uses it);
PostgreSQL 11 and earlier refuse it inside a transaction block. A label cannot be dropped from
an enum type: the downgrade leaves it (no row holds it, a run's result SKIPPED is never stored).

Revision ID: a5c3f0d7e914
Revises: e2b7c9d41a03
Create Date: 2026-12-08 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "a5c3f0d7e914"
down_revision: str | None = "e2b7c9d41a03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE runstatus ADD VALUE IF NOT EXISTS 'SKIPPED'")


def downgrade() -> None:
    pass  # PostgreSQL cannot drop a label from an enum type; it is unused
