"""Bulk INSERTs, UPDATE-by-id and SELECT-by-set, compiled once and run on the driver.

``session.execute(table.insert(), rows)`` re-derives every row's parameters through the
compiled statement's machinery; for a pull writing tens of thousands of narrow rows that
was a fifth of the store's time. Here a statement is compiled once per table, column set
and dialect, the columns' bind processors (JSON, UTC datetimes, enums) are applied directly,
and the rows go to the driver in the dialect's own parameter style.

A lookup by a set of values (``select_in``) binds the whole set as one parameter (a JSON
array read by ``json_each`` on SQLite, an array compared with ``= ANY`` on PostgreSQL), so
its SQL text is one string whatever the set's size and is never re-rendered per call.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    Boolean,
    Date,
    Dialect,
    Enum,
    Table,
    bindparam,
    or_,
    update,
)
from sqlmodel import Session

ID_PARAM = "_id"  # the key naming the row an UPDATE-by-id changes
STAMPS = frozenset({"updated_at", "seen_at"})  # bookkeeping, never itself a change


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # parameter names, in the statement's order when positional
    processors: tuple[Callable[[Any], Any] | None, ...]
    defaults: tuple[Callable[[], Any], ...]  # a value for a row that has no key for a name
    positional: bool
    # per name: the processor maps equal values to equal results (dates, enums, booleans),
    # so each distinct value of a batch is processed once
    by_value: tuple[bool, ...] = ()

    def parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        columns = []
        for name, process, default, by_value in zip(
            self.names, self.processors, self.defaults, self.by_value, strict=True
        ):
            try:
                values = list(map(itemgetter(name), rows))
            except KeyError:
                values = [row[name] if name in row else default() for row in rows]
            if process is not None:
                values = _processed(values, process, by_value)
            columns.append(values)
        if self.positional:
            return list(zip(*columns, strict=True))
        return [dict(zip(self.names, values, strict=True)) for values in zip(*columns, strict=True)]


def _processed(values: list[Any], process: Callable[[Any], Any], by_value: bool) -> list[Any]:
    """``process`` applied to each value. The rows of a batch share objects (one timestamp for
    all) and repeat values (a status, a date): a run of the same object is processed once,
    and with ``by_value`` each distinct value once."""
    if by_value:
        done_for: dict[Any, Any] = {}
        out = []
        for value in values:
            try:
                out.append(done_for[value])
            except KeyError:
                done_for[value] = result = process(value)
                out.append(result)
        return out
    out = []
    last: Any = _NOTHING
    done: Any = None
    for value in values:
        if value is not last:
            last, done = value, process(value)
        out.append(done)
    return out


_NOTHING = object()


def _default(table: Table, name: str, kind: str) -> Callable[[], Any]:
    """What SQLAlchemy would fill in for a column a row leaves out: its Python-side default
    (or on-update value), else NULL."""
    if name == ID_PARAM:
        return lambda: None
    column = table.c[name]
    default: Any = column.default if kind == "insert" else column.onupdate
    if default is None:
        return lambda: None
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:
        return lambda: default.arg(None)
    raise ValueError(f"{table.name}.{name}: a SQL-expression default cannot be bulk-written")


def _by_value(table: Table, name: str) -> bool:
    """Whether the column's bind processor may be applied once per distinct value: types
    whose equal values are written alike. Not a number (1.0 and 1.00 are equal), JSON (not
    hashable) or a timestamp (01:30 before and after a clock change are equal in one zone);
    a batch's timestamps are one shared object, processed once as a run anyway."""
    if name == ID_PARAM:
        return False
    return isinstance(table.c[name].type, Boolean | Date | Enum)


_cache: dict[tuple[str, str, tuple[str, ...], int], _Compiled] = {}


def _compile(table: Table, kind: str, keys: tuple[str, ...], dialect: Dialect) -> _Compiled:
    cache_key = (table.name, kind, keys, id(dialect))
    found = _cache.get(cache_key)
    if found is not None:
        return found
    if kind == "insert":
        statement: Any = table.insert().values({key: bindparam(key) for key in keys})
    else:
        statement = (
            update(table)
            .where(table.c.id == bindparam(ID_PARAM))
            .values({key: bindparam(key) for key in keys})
        )
        compared = [key for key in keys if key not in STAMPS]
        if kind == "update_changed" and compared:
            # the database skips a row already holding its values: no write, no index churn
            statement = statement.where(
                or_(*(table.c[key].is_distinct_from(bindparam(key)) for key in compared))
            )
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    processors = tuple(
        table.c["id" if name == ID_PARAM else name]
        .type.dialect_impl(dialect)
        .bind_processor(dialect)
        for name in names
    )
    defaults = tuple(_default(table, name, kind) for name in names)
    by_value = tuple(_by_value(table, name) for name in names)
    found = _Compiled(
        compiled.string, names, processors, defaults, bool(compiled.positional), by_value
    )
    _cache[cache_key] = found
    return found


def _run(session: Session, compiled: _Compiled, rows: Sequence[dict[str, Any]]) -> None:
    session.connection().exec_driver_sql(compiled.sql, compiled.parameters(rows))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` into ``table``; a row without a key for a column gets the column's
    default, as with ``session.execute(table.insert(), rows)``."""
    if not rows:
        return
    keys = tuple(sorted({key for row in rows for key in row}))
    _run(session, _compile(table, "insert", keys, session.get_bind().dialect), rows)


def update_rows_by_id(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_unchanged: bool = False,
) -> None:
    """UPDATE rows of ``table`` named by each row's ``_id``; each row sets the columns it has
    keys for, one statement per distinct set of columns. With ``skip_unchanged`` a row that
    already holds all its values (``STAMPS`` aside) is left untouched, stamps included."""
    kind = "update_changed" if skip_unchanged else "update"
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    columns_of: dict[tuple[str, ...], tuple[str, ...]] = {}  # a row's keys -> its columns
    for row in rows:
        keys = tuple(row)
        found = columns_of.get(keys)
        if found is None:
            found = columns_of[keys] = tuple(sorted(key for key in keys if key != ID_PARAM))
        groups[found].append(row)
    dialect = session.get_bind().dialect
    for keys, group in groups.items():
        if keys:
            _run(session, _compile(table, kind, keys, dialect), group)


@dataclass(frozen=True)
class _Select:
    sql: str
    row: Any  # the namedtuple class rows are returned as
    results: tuple[Callable[[Any], Any] | None, ...]
    binds: tuple[Callable[[Any], Any] | None, ...]  # for the equality values, then each set
    sqlite: bool

    def parameters(self, equal: Iterable[Any], sets: Iterable[Collection[Any]]) -> tuple[Any, ...]:
        out: list[Any] = []
        binds = iter(self.binds)
        for value in equal:
            process = next(binds)
            out.append(process(value) if process else value)
        for values in sets:
            process = next(binds)
            members = [process(v) for v in values] if process else list(values)
            out.append(orjson.dumps(members).decode() if self.sqlite else members)
        return tuple(out)


_selects: dict[tuple[Any, ...], _Select] = {}


def _compile_select(
    table: Table,
    names: tuple[str, ...],
    equal: tuple[str, ...],
    sets: tuple[str, ...],
    dialect: Dialect,
) -> _Select:
    cache_key = (table.name, names, equal, sets, id(dialect))
    found = _selects.get(cache_key)
    if found is not None:
        return found
    quote = dialect.identifier_preparer.quote
    sqlite = dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    clauses = [f"{quote(name)} = {mark}" for name in equal]
    member = f"IN (SELECT value FROM json_each({mark}))" if sqlite else f"= ANY({mark})"
    clauses += [f"{quote(name)} {member}" for name in sets]
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    if names:
        sql = f"SELECT {', '.join(quote(name) for name in names)} FROM {quote(table.name)}{where}"
    else:  # no columns: the rows are deleted (delete_in)
        sql = f"DELETE FROM {quote(table.name)}{where}"

    def impl(name: str) -> Any:
        return table.c[name].type.dialect_impl(dialect)

    found = _Select(
        sql=sql,
        row=namedtuple(f"{table.name}_row", names),
        results=tuple(impl(name).result_processor(dialect, None) for name in names),
        binds=tuple(impl(name).bind_processor(dialect) for name in equal + sets),
        sqlite=sqlite,
    )
    _selects[cache_key] = found
    return found


def select_in(
    session: Session,
    table: Table,
    names: Sequence[str],
    *,
    equal: Mapping[str, Any] | None = None,
    within: Mapping[str, Collection[Any]],
) -> list[Any]:
    """Rows (named tuples of ``names``, values as the ORM would return them) of ``table``
    whose columns equal ``equal``'s values and are members of ``within``'s sets. An empty
    set matches nothing."""
    if any(not values for values in within.values()):
        return []
    equal = equal or {}
    compiled = _compile_select(
        table, tuple(names), tuple(equal), tuple(within), session.get_bind().dialect
    )
    cursor = session.connection().exec_driver_sql(
        compiled.sql, compiled.parameters(equal.values(), within.values())
    )
    rows = cursor.fetchall()
    make = compiled.row._make
    results = compiled.results
    if not rows or not any(results):
        return list(map(make, rows))
    # processed column by column: one pass per column that needs it, not per value
    columns = [
        list(map(process, values)) if process else values
        for process, values in zip(results, zip(*rows, strict=True), strict=True)
    ]
    return list(map(make, zip(*columns, strict=True)))


def delete_in(
    session: Session,
    table: Table,
    *,
    equal: Mapping[str, Any] | None = None,
    within: Mapping[str, Collection[Any]],
) -> int:
    """DELETE the rows :func:`select_in` would return for the same arguments; returns how
    many."""
    if any(not values for values in within.values()):
        return 0
    equal = equal or {}
    compiled = _compile_select(table, (), tuple(equal), tuple(within), session.get_bind().dialect)
    cursor = session.connection().exec_driver_sql(
        compiled.sql, compiled.parameters(equal.values(), within.values())
    )
    return int(cursor.rowcount)
