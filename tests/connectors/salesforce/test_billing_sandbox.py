"""The ``salesforce_billing`` preset end to end: the connector reads a Billing org (the sandbox
rendered with blng__ objects) and writes back only what the preset says it writes.

Billing calculates ``blng__Balance__c`` and ``blng__TotalAmount__c`` (the sandbox refuses
writes to them per record, as the org does) and posts an invoice when its
``blng__InvoiceStatus__c`` is set to Posted, so arsync writes the decided balance and paid date
into the admin's custom fields and leaves the status alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import responses

from connectors.base import MemoryTokenStore, RawRecord
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConfig, SalesforceConnector, SalesforceSandbox
from connectors.salesforce.writes import InvoiceStatus
from connectors.sandbox.world import World
from mappings.base import MappingContext
from mappings.salesforce import MAPPERS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SalesforceSandbox]:
    server = SalesforceSandbox(
        world=World.generate(seed=7, customers=12, invoices=90), preset="salesforce_billing"
    )
    server.start()
    yield server
    server.stop()


def connect(sandbox: SalesforceSandbox) -> SalesforceConnector:
    return SalesforceConnector(
        sandbox.config().model_copy(update={"page_size": 40}),
        MemoryTokenStore(sandbox.initial_tokens()),
        policy=RetryPolicy(sleep=lambda _: None),
    )


def pull(connector: SalesforceConnector, stream: str) -> list[RawRecord]:
    until = datetime.now(UTC) + timedelta(seconds=1)
    return [r for p in connector.streams()[stream].pages(None, until) for r in p.records]


def test_a_sync_reads_every_billing_object_and_maps_it(sandbox: SalesforceSandbox) -> None:
    connector = connect(sandbox)
    ctx = MappingContext("salesforce", options={"schema": sandbox.schema})
    invoices = {r.remote_id for r in pull(connector, "invoices")}
    memos = {r.remote_id for r in pull(connector, "credit_memos")}
    payments = pull(connector, "payments")
    kinds = {r.object_type for r in payments}
    assert kinds == {"blng__Payment__c", "blng__CreditNoteAllocation__c"}
    applied = 0
    for raw in payments:
        mapped: Any = MAPPERS["payments"](raw, ctx)
        for entry in mapped.applied:
            assert entry.target_remote_id in (invoices if entry.target == "invoice" else memos)
            applied += 1
    assert applied > 0
    queries = [path for _, path in sandbox.log if path.endswith("/query/")]
    assert queries  # the SOQL with blng__ names and relationship paths was accepted


def test_allocation_rows_arrive_nested_as_the_rest_api_returns_them(
    sandbox: SalesforceSandbox,
) -> None:
    connector = connect(sandbox)
    payment = next(
        r
        for r in pull(connector, "payments")
        if r.object_type == "blng__Payment__c" and r.payload["blng__PaymentAllocations_del__r"]
    )
    assert payment.payload["attributes"]["type"] == "blng__Payment__c"
    child = payment.payload["blng__PaymentAllocations_del__r"]
    assert child["done"] is True and child["totalSize"] == len(child["records"])
    row = child["records"][0]
    assert row["attributes"]["type"] == "blng__PaymentAllocationInvoiceLine__c"
    assert row["blng__Type__c"] == "Allocation" and row["blng__Unallocated__c"] is False
    line = row["blng__InvoiceLine__r"]
    assert line["attributes"]["type"] == "blng__InvoiceLine__c"
    assert line["attributes"]["url"].startswith(
        "/services/data/v62.0/sobjects/blng__InvoiceLine__c/"
    )
    assert set(line) == {"attributes", "blng__Invoice__c"}


def test_invoice_state_writes_the_custom_fields_and_leaves_billing_alone(
    sandbox: SalesforceSandbox,
) -> None:
    connector = connect(sandbox)
    spec = sandbox.schema.invoice
    record_id = sandbox.remote_ids("invoices")[3]
    before = sandbox.row(spec.sobject, record_id)
    (result,) = connector.write_invoice_statuses(
        [InvoiceStatus(record_id, "paid", Decimal("0.00"), paid_date=date(2024, 6, 1))]
    )
    assert result.success
    after = sandbox.row(spec.sobject, record_id)
    assert after["AR_Balance__c"] == Decimal("0.00")
    assert after["Paid_Date__c"] == date(2024, 6, 1)
    for untouched in ("blng__Balance__c", "blng__TotalAmount__c", "blng__InvoiceStatus__c"):
        assert after[untouched] == before[untouched]


def test_the_org_refuses_writes_to_calculated_billing_fields(sandbox: SalesforceSandbox) -> None:
    """What the preset avoids: writing the balance Billing calculates fails per record."""
    connector = connect(sandbox)
    record_id = sandbox.remote_ids("invoices")[4]
    (result,) = connector.writer.update(
        "blng__Invoice__c", [{"Id": record_id, "blng__Balance__c": Decimal("0.00")}]
    )
    assert not result.success and result.code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert result.fields == ("blng__Balance__c",)


# on the wire ------------------------------------------------------------------------------

TOKEN_URL = "https://login.example.test/services/oauth2/token"
INSTANCE = "https://acme.example.test"


def test_invoice_state_body_for_the_billing_preset() -> None:
    config = SalesforceConfig.model_validate(
        {
            "token_url": TOKEN_URL,
            "client_id": "id",
            "client_secret": "secret",
            "objects": {"preset": "salesforce_billing"},
        }
    )
    connector = SalesforceConnector(
        config, MemoryTokenStore(), policy=RetryPolicy(max_attempts=2, sleep=lambda _: None)
    )
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.post(TOKEN_URL, json={"access_token": "00D!t", "instance_url": INSTANCE})
        mock.patch(
            f"{INSTANCE}/services/data/v62.0/composite/sobjects",
            json=[
                {"id": "a0P5e00000AbCdEEAV", "success": True, "errors": []},
                {"id": "a0P5e00000BbBbBEAV", "success": True, "errors": []},
            ],
        )
        results = connector.write_invoice_statuses(
            [
                InvoiceStatus("a0P5e00000AbCdEEAV", "paid", Decimal("0.00"), date(2024, 6, 1)),
                InvoiceStatus("a0P5e00000BbBbBEAV", "open", Decimal("410.00")),
            ]
        )
        body = json.loads(mock.calls[-1].request.body or b"", parse_float=Decimal)
    assert all(r.success for r in results)
    assert body == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "blng__Invoice__c"},
                "Id": "a0P5e00000AbCdEEAV",
                "AR_Balance__c": Decimal("0.00"),
                "Paid_Date__c": "2024-06-01",
            },
            {
                "attributes": {"type": "blng__Invoice__c"},
                "Id": "a0P5e00000BbBbBEAV",
                "AR_Balance__c": Decimal("410.00"),
                "Paid_Date__c": None,
            },
        ],
    }
