"""iso 4217 minor units: rescale stored amounts of currencies whose digits were CLDR's

Revision ID: 579cc0a47296
Revises: 0b3b88089cc4
Create Date: 2026-12-06 00:09:37.212712

Minor units were CLDR's display precision (babel ``get_currency_precision``) and are now
ISO 4217's (``iso4217`` 1.16, table published 2026-01-01; babel 2.19.0, CLDR 49).
``CHANGED`` is every currency on which the two disagreed when this was written, frozen here
so that the migration means the same whatever those libraries say later. (Babel 2.15 to
2.18 gave COP, HUF and IDR two digits and RSD none: amounts in those four that a store got
through one of them are not at the scale this migration expects.) Amounts stored in minor
units are multiplied by ``10 ** (new - old)``: the integer columns of every table with
a currency, the ``*_minor`` values of ExternalRef ``values`` snapshots (the ref's own
``currency``, else its record's) and of outbox command payloads (the payload's ``currency``).
Decision evidence and candidates, drift findings, run counts and remittance structured refs
hold amounts as decimal text in major units, and webhook, quarantine and raw payloads are
what the systems sent in their own units: their meaning does not depend on the store's
minor unit, so they are left as they are.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '579cc0a47296'
down_revision: str | None = '0b3b88089cc4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# currency: (CLDR digits the store used, ISO 4217 digits from now on)
CHANGED: dict[str, tuple[int, int]] = {
    'AFN': (0, 2),
    'ALL': (0, 2),
    'COP': (0, 2),
    'HUF': (0, 2),
    'IDR': (0, 2),
    'IQD': (0, 3),
    'IRR': (0, 2),
    'KPW': (0, 2),
    'LAK': (0, 2),
    'LBP': (0, 2),
    'MGA': (0, 2),
    'MMK': (0, 2),
    'SOS': (0, 2),
    'SYP': (0, 2),
    'YER': (0, 2),
}
MINOR_COLUMNS: dict[str, tuple[str, ...]] = {
    'invoice': ('total_minor', 'balance_minor'),
    'credit_memo': ('total_minor', 'balance_minor'),
    'payment': ('amount_minor', 'unapplied_minor'),
    'remittance': ('amount_minor',),
    'application': ('amount_minor',),
    'adjustment': ('amount_minor',),
    'decision': ('amount_minor', 'applied_minor', 'deduction_minor', 'unapplied_minor'),
}
SNAPSHOT_TYPES = ('invoice', 'credit_memo', 'payment')
MAX_MINOR = 2**63 - 1
CHUNK = 1000
_INTEGER = re.compile(r'-?\d+')


def upgrade() -> None:
    _rescale(up=True)


def downgrade() -> None:
    _rescale(up=False)


def _rescale(*, up: bool) -> None:
    conn = op.get_bind()
    factors: dict[str, int] = {
        code: 10 ** (new - old) for code, (old, new) in CHANGED.items() if new != old
    }
    by_factor: dict[int, list[str]] = {}
    for code, factor in factors.items():
        by_factor.setdefault(factor, []).append(code)
    for name, columns in MINOR_COLUMNS.items():
        table = sa.table(name, sa.column('currency', sa.String), *(sa.column(c, sa.BigInteger) for c in columns))
        for factor, codes in sorted(by_factor.items()):
            mine = table.c.currency.in_(codes)
            for column in columns:
                amount = table.c[column]
                if up:
                    bad = sa.or_(amount > MAX_MINOR // factor, amount < -(MAX_MINOR // factor))
                    why = 'too large for the store once in ISO 4217 minor units'
                else:
                    bad = amount % factor != 0
                    why = 'not a whole number of the old (CLDR) minor unit'
                count = conn.execute(sa.select(sa.func.count()).select_from(table).where(mine, bad)).scalar_one()
                if count:
                    raise RuntimeError(f'{count} {name}.{column} amounts in {", ".join(codes)} are {why}')
            scaled = {c: (table.c[c] * factor if up else table.c[c] // factor) for c in columns}
            conn.execute(sa.update(table).where(mine).values(scaled))
    _rescale_refs(conn, factors, up)
    _rescale_payloads(conn, factors, up)


def _rescale_refs(conn: Any, factors: dict[str, int], up: bool) -> None:
    """ExternalRef ``values``: what a system last said of a record, ``*_minor`` included."""
    record_currency: dict[tuple[str, str], str] = {}
    for name in SNAPSHOT_TYPES:
        table = sa.table(name, sa.column('id', sa.String), sa.column('currency', sa.String))
        query = sa.select(table.c.id, table.c.currency).where(table.c.currency.in_(list(factors)))
        for row in conn.execute(query):
            record_currency[(name, row.id)] = row.currency
    refs = sa.table(
        'external_ref',
        sa.column('id', sa.String),
        sa.column('canonical_type', sa.String),
        sa.column('canonical_id', sa.String),
        sa.column('values', sa.JSON),
    )
    query = sa.select(refs.c.id, refs.c.canonical_type, refs.c.canonical_id, refs.c['values']).where(
        refs.c.canonical_type.in_(SNAPSHOT_TYPES)
    )

    def factor_of(row: Any) -> int | None:
        values = row._mapping['values'] or {}
        currency = values.get('currency') or record_currency.get((row.canonical_type, row.canonical_id))
        return factors.get(str(currency or '').upper())

    _rewrite(conn, refs, 'values', query, factor_of, up)


def _rescale_payloads(conn: Any, factors: dict[str, int], up: bool) -> None:
    """Outbox command payloads: canonical ids and minor units, with their currency."""
    commands = sa.table('outbox_command', sa.column('id', sa.String), sa.column('payload', sa.JSON))
    query = sa.select(commands.c.id, commands.c.payload)

    def factor_of(row: Any) -> int | None:
        return factors.get(str((row._mapping['payload'] or {}).get('currency') or '').upper())

    _rewrite(conn, commands, 'payload', query, factor_of, up)


def _rewrite(conn: Any, table: Any, column: str, query: Any, factor_of: Any, up: bool) -> None:
    """Rescale the ``*_minor`` values of a JSON column, a chunk of rows (by id) at a time."""
    after = ''
    while True:
        rows = conn.execute(query.where(table.c.id > after).order_by(table.c.id).limit(CHUNK)).all()
        if not rows:
            return
        after = rows[-1].id
        changed = []
        for row in rows:
            factor = factor_of(row)
            if factor is None:
                continue
            value = row._mapping[column]
            scaled = _scaled(value, factor, up, f'{table.name} {row.id}')
            if scaled != value:
                changed.append({'_id': row.id, '_value': scaled})
        if changed:
            conn.execute(
                sa.update(table).where(table.c.id == sa.bindparam('_id')).values({column: sa.bindparam('_value', type_=sa.JSON)}),
                changed,
            )


def _scaled(value: Any, factor: int, up: bool, where: str) -> Any:
    if isinstance(value, dict):
        return {
            k: _minor(v, factor, up, where) if k.endswith('_minor') else _scaled(v, factor, up, where)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scaled(v, factor, up, where) for v in value]
    return value


def _minor(value: Any, factor: int, up: bool, where: str) -> Any:
    """An amount in minor units, rescaled in the type it was stored as (int or digit text)."""
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and _INTEGER.fullmatch(value))
    ):
        return value
    amount = int(value)
    if up:
        amount *= factor
        if abs(amount) > MAX_MINOR:
            raise RuntimeError(f'{where}: {value} is too large for the store in ISO 4217 minor units')
    else:
        if amount % factor:
            raise RuntimeError(f'{where}: {value} is not a whole number of the old (CLDR) minor unit')
        amount //= factor
    return str(amount) if isinstance(value, str) else amount
