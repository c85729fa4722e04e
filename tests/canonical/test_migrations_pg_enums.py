"""PostgreSQL: a store built by migrations has the same native enum types, with the same
labels in the same order, as a new store built from the models (``create_all``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from canonical.store import Store, alembic_config
from tests.conftest import PG_ADMIN_URL, _pg_reachable

pytestmark = pytest.mark.postgres

ENUM_LABELS = text(
    "SELECT t.typname, e.enumlabel FROM pg_type t "
    "JOIN pg_enum e ON e.enumtypid = t.oid "
    "JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname = current_schema() ORDER BY t.typname, e.enumsortorder"
)


@contextmanager
def _schema() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema, dropped afterwards."""
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    schema = f"e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_ADMIN_URL else "?"
    try:
        yield f"{PG_ADMIN_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _enums(store: Store) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for name, label in conn.execute(ENUM_LABELS):
            found.setdefault(name, []).append(label)
    return found


@pytest.mark.parametrize("start", ["base", "e2b7c9d41a03"])
def test_migrated_enum_types_have_the_labels_the_models_give(start: str) -> None:
    with _schema() as fresh_url, _schema() as migrated_url:
        fresh = Store.open(fresh_url)  # an empty database: create_all, stamped head
        migrated = Store(migrated_url)
        cfg = alembic_config(migrated.engine)
        command.upgrade(cfg, start)  # a store migrated before, or built from nothing
        command.upgrade(cfg, "head")
        try:
            models, migrations = _enums(fresh), _enums(migrated)
        finally:
            fresh.dispose()
            migrated.dispose()
    assert models["runstatus"][-1] == "SKIPPED"
    assert migrations == models


def test_a_migrated_store_can_be_migrated_down_and_up_again() -> None:
    """The label stays on downgrade (PostgreSQL drops none); upgrading again adds nothing."""
    with _schema() as url:
        store = Store.open(url)
        cfg = alembic_config(store.engine)
        command.upgrade(cfg, "head")
        before = _enums(store)
        command.downgrade(cfg, "-1")
        command.upgrade(cfg, "head")
        try:
            assert _enums(store) == before
        finally:
            store.dispose()
