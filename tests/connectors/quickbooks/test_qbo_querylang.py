"""The sandbox's subset of the QBO query language."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.quickbooks.querylang import QueryError, parse, run

ROWS = [
    {
        "Id": "3",
        "Active": True,
        "TotalAmt": Decimal("10"),
        "MetaData": {"LastUpdatedTime": "2024-01-03T10:00:00-08:00"},
    },
    {
        "Id": "1",
        "Active": False,
        "TotalAmt": Decimal("30.5"),
        "MetaData": {"LastUpdatedTime": "2024-01-01T10:00:00-08:00"},
    },
    {
        "Id": "2",
        "Active": True,
        "TotalAmt": Decimal("20"),
        "MetaData": {"LastUpdatedTime": "2024-01-02T10:00:00-08:00"},
    },
]


def test_parse_the_statements_the_connector_sends() -> None:
    query = parse(
        "SELECT * FROM Invoice WHERE Active IN (true, false) AND "
        "MetaData.LastUpdatedTime >= '2024-01-02T18:00:00+00:00' "
        "ORDERBY MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000"
    )
    assert query.entity == "Invoice"
    assert [(c.path, c.op) for c in query.conditions] == [
        ("Active", "in"),
        ("MetaData.LastUpdatedTime", ">="),
    ]
    assert (query.order_by, query.start, query.max_results) == (
        "MetaData.LastUpdatedTime",
        1,
        1000,
    )
    rows, total = run(query, ROWS)
    assert [r["Id"] for r in rows] == ["2", "3"] and total == 2


def test_paging_counting_and_caps() -> None:
    rows, total = run(
        parse("select * from Invoice orderby TotalAmt desc startposition 2 maxresults 1"), ROWS
    )
    assert [r["Id"] for r in rows] == ["2"] and total == 3
    assert parse("SELECT COUNT(*) FROM Invoice").count
    assert parse("SELECT * FROM Invoice MAXRESULTS 5000").max_results == 1000
    rows, _ = run(parse("SELECT * FROM Invoice WHERE Active = 'false'"), ROWS)
    assert [r["Id"] for r in rows] == ["1"]
    rows, _ = run(parse("SELECT * FROM Invoice WHERE TotalAmt > '15'"), ROWS)
    assert sorted(r["Id"] for r in rows) == ["1", "2"]


@pytest.mark.parametrize(
    "statement",
    [
        "",
        "SELECT Id FROM Invoice",
        "SELECT * FROM Invoice WHERE Name LIKE 'x%'",
        "SELECT * FROM Invoice STARTPOSITION 0",
    ],
)
def test_unsupported_statements_are_query_errors(statement: str) -> None:
    with pytest.raises(QueryError):
        parse(statement)
