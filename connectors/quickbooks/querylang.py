"""The part of QBO's query language the sandbox understands.

``SELECT * | COUNT(*) FROM <Entity> [WHERE <cond> [AND <cond>]...]
[ORDERBY <field> [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS n]``, where a condition is
``<field> (=|<|>|<=|>=|!=) '<value>'`` or ``<field> IN ('a', 'b')``; dotted fields
(``MetaData.LastUpdatedTime``) are allowed. STARTPOSITION is 1-based; MAXRESULTS caps at 1000.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

MAX_RESULTS = 1000

_STATEMENT = re.compile(
    r"^\s*SELECT\s+(?P<what>\*|COUNT\(\*\))\s+FROM\s+(?P<entity>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s*BY\s+(?P<order>[\w.]+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+STARTPOSITION\s+(?P<start>\d+))?"
    r"(?:\s+MAXRESULTS\s+(?P<max>\d+))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_COMPARISON = re.compile(r"^([\w.]+)\s*(>=|<=|!=|=|<|>)\s*(.+)$", re.DOTALL)
_MEMBERSHIP = re.compile(r"^([\w.]+)\s+IN\s*\((.*)\)$", re.IGNORECASE | re.DOTALL)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


class QueryError(ValueError):
    """A statement the parser cannot read (QBO's QueryParserError)."""


@dataclass(frozen=True)
class Condition:
    path: str
    op: str  # = != < > <= >= in
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    entity: str
    count: bool = False
    conditions: tuple[Condition, ...] = ()
    order_by: str | None = None
    descending: bool = False
    start: int = 1
    max_results: int = 100


def _literal(token: str) -> str:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] == "'":
        return token[1:-1].replace("\\'", "'")
    if re.fullmatch(r"[\w.+:-]+", token):
        return token
    raise QueryError(f"bad literal {token!r}")


def parse(statement: str) -> Query:
    match = _STATEMENT.match(statement or "")
    if match is None:
        raise QueryError(f"cannot parse query: {statement[:120]!r}")
    conditions: list[Condition] = []
    if match["where"]:
        for part in _AND.split(match["where"].strip()):
            member = _MEMBERSHIP.match(part.strip())
            if member:
                values = tuple(_literal(v) for v in member[2].split(",") if v.strip())
                conditions.append(Condition(member[1], "in", values))
                continue
            comparison = _COMPARISON.match(part.strip())
            if comparison is None:
                raise QueryError(f"cannot parse condition {part!r}")
            conditions.append(Condition(comparison[1], comparison[2], (_literal(comparison[3]),)))
    start = int(match["start"]) if match["start"] else 1
    if start < 1:
        raise QueryError("STARTPOSITION starts at 1")
    limit = min(int(match["max"]) if match["max"] else 100, MAX_RESULTS)
    return Query(
        entity=match["entity"],
        count=match["what"] != "*",
        conditions=tuple(conditions),
        order_by=match["order"],
        descending=(match["dir"] or "").upper() == "DESC",
        start=start,
        max_results=limit,
    )


def value_at(record: Mapping[str, Any], path: str) -> Any:
    return _getter(tuple(path.split(".")))(record)


def _getter(parts: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    def get(record: Mapping[str, Any]) -> Any:
        node: Any = record
        for part in parts:
            if not isinstance(node, dict):
                return None
            node = node.get(part)
        return node

    return get


@lru_cache(maxsize=65536)
def parse_timestamp(text: str) -> datetime:
    """A query literal or stored stamp as an aware datetime (naive means UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _looks_like_timestamp(text: str) -> bool:
    return len(text) > 10 and text[10] == "T" and text[4] == "-" and text[:4].isdigit()


def _comparable(value: Any, literal: str) -> tuple[Any, Any]:
    if isinstance(value, bool):
        return value, literal.lower() == "true"
    if isinstance(value, int | Decimal):
        try:
            return Decimal(value), Decimal(literal)
        except InvalidOperation as exc:
            raise QueryError(f"not a number: {literal!r}") from exc
    text = "" if value is None else str(value)
    if _looks_like_timestamp(text):
        try:
            return parse_timestamp(text), parse_timestamp(literal)
        except ValueError as exc:
            raise QueryError(f"not a date-time: {literal!r}") from exc
    return text.lower(), literal.lower()


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    ">": lambda a, b: bool(a > b),
    "<=": lambda a, b: bool(a <= b),
    ">=": lambda a, b: bool(a >= b),
}


Stamp = Callable[[Mapping[str, Any]], datetime]
STAMP_PATH = "MetaData.LastUpdatedTime"


def _predicate(condition: Condition, stamp_of: Stamp | None) -> Callable[[Mapping[str, Any]], bool]:
    if stamp_of is not None and condition.path == STAMP_PATH and condition.op != "in":
        compare_stamp = _OPERATORS[condition.op]
        try:
            bound = parse_timestamp(condition.values[0])
        except ValueError as exc:
            raise QueryError(f"not a date-time: {condition.values[0]!r}") from exc
        return lambda record: compare_stamp(stamp_of(record), bound)
    get = _getter(tuple(condition.path.split(".")))
    if condition.op == "in":
        equal = _OPERATORS["="]

        def member(record: Mapping[str, Any]) -> bool:
            value = get(record)
            return value is not None and any(
                equal(*_comparable(value, literal)) for literal in condition.values
            )

        return member
    compare = _OPERATORS[condition.op]
    literal = condition.values[0]

    def test(record: Mapping[str, Any]) -> bool:
        value = get(record)
        return value is not None and compare(*_comparable(value, literal))

    return test


def _sort_key(
    get: Callable[[Mapping[str, Any]], Any], record: Mapping[str, Any]
) -> tuple[Any, ...]:
    value = get(record)
    if isinstance(value, str) and _looks_like_timestamp(value):
        return (0, parse_timestamp(value).timestamp())
    if isinstance(value, int | Decimal):
        return (0, Decimal(value))
    return (1, "" if value is None else str(value))


def _id_key(record: Mapping[str, Any]) -> tuple[int, str]:
    text = str(record.get("Id", ""))
    return (int(text), "") if text.isdigit() else (0, text)


def run(
    query: Query, records: Iterable[Mapping[str, Any]], stamp_of: Stamp | None = None
) -> tuple[list[Any], int]:
    """The page of records a query selects, and how many matched in all.

    ``stamp_of`` gives a record's ``MetaData.LastUpdatedTime`` already parsed (a fast path
    for the store that keeps it); without it the stamp text is parsed.
    """
    tests = [_predicate(c, stamp_of) for c in query.conditions]
    selected = [r for r in records if all(test(r) for test in tests)]
    selected.sort(key=_id_key)  # ties keep a stable order, as QBO's do
    if query.order_by == STAMP_PATH and stamp_of is not None:
        selected.sort(key=stamp_of, reverse=query.descending)
    elif query.order_by:
        get = _getter(tuple(query.order_by.split(".")))
        selected.sort(key=lambda r: _sort_key(get, r), reverse=query.descending)
    first = query.start - 1
    return selected[first : first + query.max_results], len(selected)
