"""Salesforce Billing payments as an org keeps them: a payment that can be allocated has
``blng__Status__c`` Posted (Salesforce Help, "Create a Manual Payment": "Select the status as
Posted. Only posted payments can be allocated to an invoice. You can also create draft
payments and post it later."). Values our own; shape as the REST API returns a record."""

# ruff: noqa: E501  (vendor payloads are kept on one line per record, as the API returns them)

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import PaymentStatus
from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.salesforce import MAPPERS

CTX = MappingContext("salesforce", home_currency="USD", options={"schema": "salesforce_billing"})
AUTO = MappingContext("salesforce", home_currency="USD")  # the preset chosen by the SObject
V = "/services/data/v62.0/sobjects"

POSTED_PAYMENT = f"""{{
  "attributes": {{"type": "blng__Payment__c", "url": "{V}/blng__Payment__c/a0S5e000002PoStEAC"}},
  "Id": "a0S5e000002PoStEAC", "SystemModstamp": "2024-07-02T14:05:11.000+0000",
  "LastModifiedDate": "2024-07-02T14:05:10.000+0000", "Name": "P-0000318",
  "blng__Account__c": "0015e00000R9xYzAAB", "blng__Amount__c": 750.25, "blng__Balance__c": 0.25,
  "blng__PaymentDate__c": "2024-07-01", "blng__PaymentType__c": "Check", "blng__GatewayID__c": null,
  "blng__Status__c": "Posted", "CurrencyIsoCode": "EUR", "QuickBooks_Id__c": null,
  "blng__PaymentAllocations_del__r": {{"totalSize": 1, "done": true, "records": [
    {{"attributes": {{"type": "blng__PaymentAllocationInvoiceLine__c", "url": "{V}/blng__PaymentAllocationInvoiceLine__c/a0T5e00000AlLoCEAV"}},
     "Id": "a0T5e00000AlLoCEAV", "blng__Payment__c": "a0S5e000002PoStEAC",
     "blng__InvoiceLine__r": {{"attributes": {{"type": "blng__InvoiceLine__c", "url": "{V}/blng__InvoiceLine__c/a0M5e00000LiNeAEAV"}}, "blng__Invoice__c": "a0P5e00000AbCdEEAV"}},
     "blng__Amount__c": 750.00, "blng__Unallocated__c": false, "blng__Type__c": "Allocation"}}]}}
}}"""


def record(body: str, **changes: Any) -> RawRecord:
    payload: dict[str, Any] = json.loads(body, parse_float=Decimal)
    payload.update(changes)
    return RawRecord("payments", payload["attributes"]["type"], payload["Id"], payload)


@pytest.mark.parametrize("ctx", [CTX, AUTO], ids=["configured", "chosen-by-sobject"])
def test_a_posted_billing_payment_is_cash_with_its_allocations(ctx: MappingContext) -> None:
    mapped: Any = MAPPERS["payments"](record(POSTED_PAYMENT), ctx)
    assert mapped.status is PaymentStatus.POSTED
    assert mapped.amount == Money("750.25", "EUR")
    assert mapped.unapplied == Money("0.25", "EUR")
    assert [(a.target, a.target_remote_id, a.amount) for a in mapped.applied] == [
        ("invoice", "a0P5e00000AbCdEEAV", Money("750.00", "EUR"))
    ]


def test_a_draft_billing_payment_is_still_no_cash() -> None:
    mapped: Any = MAPPERS["payments"](record(POSTED_PAYMENT, blng__Status__c="Draft"), CTX)
    assert mapped.status is PaymentStatus.VOID
    assert mapped.unapplied == Money("0.00", "EUR")
