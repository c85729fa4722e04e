"""SOQL: the incremental query the connector builds, and the subset the sandbox parses."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.salesforce.soql import Condition, SoqlError, incremental_query, parse

SINCE = datetime(2024, 5, 1, 10, 0, 0, 750000, tzinfo=UTC)
UNTIL = datetime(2024, 5, 2, 8, 30, 15, 250000, tzinfo=UTC)


def test_incremental_query_filters_and_orders_on_systemmodstamp() -> None:
    soql = incremental_query("Invoice__c", ["Id", "Amount__c"], since=SINCE, until=UNTIL)
    assert soql == (
        "SELECT Id, Amount__c FROM Invoice__c WHERE SystemModstamp > 2024-05-01T10:00:00Z "
        "AND SystemModstamp < 2024-05-02T08:30:16Z ORDER BY SystemModstamp ASC, Id ASC"
    )


def test_full_pull_has_only_the_upper_bound_and_children_become_subqueries() -> None:
    soql = incremental_query(
        "Payment__c",
        ["Id"],
        since=None,
        until=UNTIL,
        children=[("Payment_Applications__r", ["Id", "Amount__c"])],
    )
    assert "(SELECT Id, Amount__c FROM Payment_Applications__r)" in soql
    assert "SystemModstamp >" not in soql


def test_names_that_are_not_api_names_are_refused() -> None:
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        incremental_query("Invoice__c", ["Id; DROP"], since=None, until=UNTIL)


def test_parser_reads_what_the_connector_sends() -> None:
    soql = incremental_query(
        "Payment__c",
        ["Id", "Amount__c"],
        since=SINCE,
        until=UNTIL,
        children=[("Payment_Applications__r", ["Id"])],
    )
    query = parse(soql)
    assert query.sobject == "Payment__c"
    assert query.fields == ["Id", "Amount__c"]
    assert query.subqueries[0].sobject == "Payment_Applications__r"
    assert query.where[0] == Condition(
        "SystemModstamp", ">", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    )
    assert query.order_by == [("SystemModstamp", False), ("Id", False)]


def test_parser_handles_in_lists_literals_and_limit() -> None:
    query = parse(
        "SELECT Id FROM Invoice__c WHERE Id IN ('a0X1', 'a0X2') AND Amount__c >= 10.50 "
        "AND Paid__c = false AND Name != 'O\\'Brien' ORDER BY Name DESC LIMIT 5"
    )
    assert query.where[0].value == ["a0X1", "a0X2"]
    assert query.where[1].value == Decimal("10.50")
    assert query.where[2].value is False
    assert query.where[3].value == "O'Brien"
    assert query.order_by == [("Name", True)]
    assert query.limit == 5
    assert query.where[0].holds("a0X2") and not query.where[0].holds("zzz")


@pytest.mark.parametrize(
    "text",
    ["SELECT FROM Account", "SELECT Id Account", "SELECT Id FROM Account WHERE Name", "DELETE x"],
)
def test_malformed_queries_raise_malformed_query(text: str) -> None:
    with pytest.raises(SoqlError) as info:
        parse(text)
    assert info.value.code == "MALFORMED_QUERY"


def test_parent_relationship_fields_are_selected_but_objects_stay_plain_names() -> None:
    soql = incremental_query(
        "blng__CreditNoteAllocation__c",
        ["Id", "blng__InvoiceLine__r.blng__Invoice__c"],
        since=None,
        until=UNTIL,
        children=[("blng__Lines__r", ["Id", "blng__InvoiceLine__r.blng__Invoice__c"])],
    )
    assert soql.startswith("SELECT Id, blng__InvoiceLine__r.blng__Invoice__c, (SELECT Id, ")
    assert parse(soql).fields == ["Id", "blng__InvoiceLine__r.blng__Invoice__c"]
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        incremental_query("Account.Owner", ["Id"], since=None, until=UNTIL)
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        incremental_query("Invoice__c", ["Id"], since=None, until=UNTIL, children=[("A.B", ["Id"])])
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        incremental_query("Invoice__c", ["Parent__r..Name"], since=None, until=UNTIL)
