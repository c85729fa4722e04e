"""Migrations build the same schema as the models, and an existing database upgrades in place."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from canonical.store import Store, alembic_config, make_engine


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: run `make migration m='...'`"


def test_existing_database_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "base")
    command.upgrade(cfg, "head")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customer (id, tenant, name, name_key, status, credit_hold, "
                "created_at, updated_at) VALUES ('c1', 'default', 'Kept', 'KEPT', "
                "'active', 0, '2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()
    store = Store.open(url)  # an existing database: upgraded, data kept
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customer")).scalar_one() == "Kept"
        assert "alembic_version" in inspect(conn).get_table_names()
    store.dispose()
