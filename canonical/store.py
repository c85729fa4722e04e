"""The canonical store: engine, sessions and schema migrations.

SQLite (a file) is the embedded default; PostgreSQL is used by URL. A new, empty database
gets the schema from the models and is stamped at the newest migration; an existing one is
upgraded in place by Alembic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import canonical.models  # noqa: F401  (registers every table on SQLModel.metadata)
from canonical.types import without_nul

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
ANALYZE_AFTER_ROWS = 2000
# the tables a pull or an import loads in bulk and then looks rows up in
BULK_TABLES = ("external_ref", "customer", "invoice", "credit_memo", "payment", "application")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # A large book's indexes do not fit SQLite's 2 MB default page cache; 64 MB does.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    # A pull commits every thousand records. Checkpointing the WAL into the database every
    # 1,000 pages (the default, 4 MB) copied the same index pages back many times per load;
    # every 16,384 (64 MB; the WAL file grows to about that) cut commit time by a quarter.
    cursor.execute("PRAGMA wal_autocheckpoint=16384")
    cursor.close()


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return without_nul(value)
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    return value


def json_dumps(value: Any) -> str:
    """JSON columns are written with orjson (the stdlib encoder was a third of a pull's store
    time); Decimals become strings, never floats. NUL characters are left out of strings, as
    from text columns: PostgreSQL's ``jsonb`` refuses ``\\u0000``, so a document holding one
    could not be searched there (SQLite would keep it)."""
    encoded = orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    if "\\u0000" in encoded:
        encoded = orjson.dumps(
            _without_nul(value), default=_json_default, option=orjson.OPT_NON_STR_KEYS
        ).decode()
    return encoded


JSON_OPTIONS: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}
# a database error's text never carries the statement's values (a stored token among them)
ENGINE_OPTIONS: dict[str, Any] = {**JSON_OPTIONS, "hide_parameters": True}


def store_reason(exc: BaseException) -> str:
    """The database's own first line of an error (``value too long for type character
    varying(64)``), without the statement or its values."""
    cause = getattr(exc, "orig", None) or exc
    return next((line.strip() for line in str(cause).splitlines() if line.strip()), "")[:500] or (
        type(cause).__name__
    )


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if not database or database == ":memory:":
            kwargs["poolclass"] = StaticPool
        engine = create_engine(parsed, **kwargs, **ENGINE_OPTIONS)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **ENGINE_OPTIONS)


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


class Store:
    """Owns the engine; hands out sessions; keeps the schema current."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._grown = 0  # rows written since the planner's statistics were last refreshed
        self._analyzed = 0  # rows written when they were

    @classmethod
    def open(cls, url: str) -> Store:
        """Open a store and bring its schema to the newest version."""
        store = cls(url)
        store.migrate()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Create the schema in an empty database, or upgrade an existing one in place."""
        cfg = alembic_config(self.engine)
        existing = set(inspect(self.engine).get_table_names())
        if not existing - {"alembic_version"}:
            SQLModel.metadata.create_all(self.engine)
            command.stamp(cfg, "head")
        else:
            command.upgrade(cfg, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def wrote(self, rows: int) -> None:
        """Note rows a bulk load committed. PostgreSQL plans lookups from table statistics
        that autovacuum refreshes only about once a minute, so while a first pull grows the
        tables from nothing the planner believes they are empty and scans them; statistics
        are refreshed here each time the rows written have doubled (a few times per load).
        SQLite plans from its indexes alone and needs nothing."""
        self._grown += rows
        if self.dialect != "postgresql" or self._grown < max(ANALYZE_AFTER_ROWS, self._analyzed):
            return
        with self.engine.begin() as connection:
            connection.exec_driver_sql(f"ANALYZE {', '.join(BULK_TABLES)}")
        self._analyzed += self._grown
        self._grown = 0

    def dispose(self) -> None:
        self.engine.dispose()
