"""SOQL: building the incremental queries the connector sends, and parsing that subset.

The parser serves the sandbox: ``SELECT fields[, (SELECT fields FROM Relationship)] FROM
Object [WHERE cond AND cond ...] [ORDER BY field [ASC|DESC], ...] [LIMIT n]`` where a
condition is ``field op literal`` (``= != <> < <= > >=``) or ``field IN (literal, ...)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# a field of a parent record: ``blng__InvoiceLine__r.blng__Invoice__c`` (five levels at most)
_FIELD = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]*\.){0,5}[A-Za-z][A-Za-z0-9_]*$")


class SoqlError(ValueError):
    """A query outside the supported subset; ``code`` is Salesforce's errorCode for it."""

    def __init__(self, message: str, code: str = "MALFORMED_QUERY") -> None:
        self.code = code
        super().__init__(message)


# building ---------------------------------------------------------------------------


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal in UTC, whole seconds (``2024-05-01T10:00:00Z``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_second(moment: datetime) -> datetime:
    """The first whole second after ``moment``."""
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def incremental_query(
    sobject: str,
    fields: Sequence[str],
    *,
    since: datetime | None,
    until: datetime | None,
    children: Iterable[tuple[str, Sequence[str]]] = (),
    inclusive: bool = False,
) -> str:
    """``SELECT ... FROM sobject WHERE SystemModstamp in (since, until] ORDER BY stamp, Id``.

    Literals carry whole seconds only: ``since`` is floored (re-reading at most the records
    of that second, which the runtime de-duplicates) and the upper bound is the second after
    ``until`` (the caller drops records stamped after ``until`` itself). ``inclusive``
    reads ``SystemModstamp >= since``, to resume a query at the last record seen.
    """
    kids = [(relationship, list(names)) for relationship, names in children]
    for name in (sobject, *(r for r, _ in kids)):
        if not _NAME.match(name):
            raise ValueError(f"not a Salesforce API name: {name!r}")
    for name in (*fields, *(f for _, names in kids for f in names)):
        if not _FIELD.match(name):
            raise ValueError(f"not a Salesforce API name: {name!r}")
    items = list(fields)
    for relationship, child_fields in kids:
        items.append(f"(SELECT {', '.join(child_fields)} FROM {relationship})")
    where: list[str] = []
    if since is not None:
        where.append(f"SystemModstamp {'>=' if inclusive else '>'} {soql_datetime(since)}")
    if until is not None:
        where.append(f"SystemModstamp < {soql_datetime(next_second(until))}")
    query = f"SELECT {', '.join(items)} FROM {sobject}"
    if where:
        query += " WHERE " + " AND ".join(where)
    return query + " ORDER BY SystemModstamp ASC, Id ASC"


# parsing (sandbox) ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:"
    r"(?P<str>'(?:[^'\\]|\\.)*')"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))"
    r"|(?P<date>\d{4}-\d{2}-\d{2})"
    r"|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op><=|>=|!=|<>|=|<|>)"
    r"|(?P<punct>[(),])"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)"
    r")"
)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # = != < <= > >= IN
    value: Any

    def holds(self, row_value: Any) -> bool:
        if self.op == "IN":
            return bool(row_value in self.value)
        if self.op == "=":
            return bool(row_value == self.value)
        if self.op in ("!=", "<>"):
            return bool(row_value != self.value)
        if row_value is None or self.value is None:
            return False
        if self.op == "<":
            return bool(row_value < self.value)
        if self.op == "<=":
            return bool(row_value <= self.value)
        if self.op == ">":
            return bool(row_value > self.value)
        return bool(row_value >= self.value)


@dataclass
class Query:
    sobject: str
    fields: list[str]
    subqueries: list[Query] = field(default_factory=list)
    where: list[Condition] = field(default_factory=list)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None

    def referenced_fields(self) -> list[str]:
        names = list(self.fields) + [c.field for c in self.where] + [f for f, _ in self.order_by]
        return list(dict.fromkeys(names))


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise SoqlError(f"unexpected token at position {pos}: {text[pos : pos + 20]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].upper() == word:
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise SoqlError(f"expected {word} near {self.describe()}")

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token and token == ("punct", char):
            self.pos += 1
            return True
        return False

    def word(self) -> str:
        token = self.peek()
        if not token or token[0] != "word":
            raise SoqlError(f"expected a field or object name near {self.describe()}")
        self.pos += 1
        return token[1]

    def describe(self) -> str:
        token = self.peek()
        return repr(token[1]) if token else "end of query"

    def literal(self) -> Any:
        token = self.peek()
        if token is None:
            raise SoqlError("expected a value at end of query")
        kind, text = token
        self.pos += 1
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "dt":
            raw = text.replace("Z", "+00:00")
            if raw[-5] in "+-" and raw[-3] != ":":
                raw = raw[:-2] + ":" + raw[-2:]
            return datetime.fromisoformat(raw).astimezone(UTC)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "num":
            return Decimal(text)
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind == "word" and text.lower() == "null":
            return None
        raise SoqlError(f"expected a value near {text!r}")

    def query(self) -> Query:
        self.expect_keyword("SELECT")
        fields: list[str] = []
        subqueries: list[Query] = []
        while True:
            if self.punct("("):
                subqueries.append(self.query())
                if not self.punct(")"):
                    raise SoqlError(f"expected ) near {self.describe()}")
            else:
                fields.append(self.word())
            if not self.punct(","):
                break
        self.expect_keyword("FROM")
        result = Query(sobject=self.word(), fields=fields, subqueries=subqueries)
        if self.keyword("WHERE"):
            while True:
                result.where.append(self.condition())
                if not self.keyword("AND"):
                    break
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                name = self.word()
                descending = self.keyword("DESC")
                if not descending:
                    self.keyword("ASC")
                result.order_by.append((name, descending))
                if not self.punct(","):
                    break
        if self.keyword("LIMIT"):
            value = self.literal()
            if not isinstance(value, Decimal):
                raise SoqlError("LIMIT needs a number")
            result.limit = int(value)
        return result

    def condition(self) -> Condition:
        name = self.word()
        if self.keyword("IN"):
            if not self.punct("("):
                raise SoqlError(f"expected ( after IN near {self.describe()}")
            values = [self.literal()]
            while self.punct(","):
                values.append(self.literal())
            if not self.punct(")"):
                raise SoqlError(f"expected ) near {self.describe()}")
            return Condition(name, "IN", values)
        token = self.peek()
        if not token or token[0] != "op":
            raise SoqlError(f"expected an operator after {name} near {self.describe()}")
        self.pos += 1
        return Condition(name, token[1], self.literal())


def parse(text: str) -> Query:
    """Parse the supported SOQL subset; raises :class:`SoqlError` (MALFORMED_QUERY)."""
    parser = _Parser(text)
    query = parser.query()
    if parser.peek() is not None:
        raise SoqlError(f"unexpected {parser.describe()} after the query")
    return query
