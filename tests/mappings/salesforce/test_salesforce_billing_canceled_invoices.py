"""Salesforce Billing invoices an invoice run's clean-up cancelled.

Salesforce Help ("Clean Up Invoice Runs", Salesforce Billing managed package): the clean-up
"changes the status of invoices from Error, Initiated, or Draft to Canceled", while
InvoiceAPI.creditInvoice on a draft sets it to Cancelled. Both spellings reach
``blng__InvoiceStatus__c``; an invoice in either owes nothing and takes no cash. The records
are shaped as the REST API returns them (values our own), mapped with the preset.
"""

# ruff: noqa: E501  (vendor payloads are kept on one line per record, as the API returns them)

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import DocumentStatus
from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError
from mappings.salesforce import MAPPERS, VERSION
from mappings.salesforce.schema import load_preset

CTX = MappingContext("salesforce", home_currency="USD", options={"schema": "salesforce_billing"})
AUTO = MappingContext("salesforce", home_currency="USD")  # the preset chosen by the SObject

INVOICE = """{
  "attributes": {"type": "blng__Invoice__c", "url": "/services/data/v62.0/sobjects/blng__Invoice__c/a0P5e00000XyZwQEAV"},
  "Id": "a0P5e00000XyZwQEAV", "SystemModstamp": "2024-07-01T06:12:09.000+0000",
  "LastModifiedDate": "2024-07-01T06:12:07.000+0000", "Name": "INV-0000108",
  "blng__Account__c": "0015e00000QrStUAAV", "blng__TotalAmount__c": 845.5,
  "blng__Balance__c": 845.5, "blng__InvoiceStatus__c": "Canceled",
  "blng__InvoiceDate__c": "2024-06-30", "blng__DueDate__c": "2024-07-30",
  "CurrencyIsoCode": "GBP", "QuickBooks_Id__c": null
}"""


def invoice(status: str, context: MappingContext = CTX) -> Any:
    body: dict[str, Any] = json.loads(INVOICE, parse_float=Decimal)
    body["blng__InvoiceStatus__c"] = status
    return MAPPERS["invoices"](RawRecord("invoices", "blng__Invoice__c", body["Id"], body), context)


@pytest.mark.parametrize("context", [CTX, AUTO], ids=["configured", "chosen_by_sobject"])
def test_an_invoice_canceled_by_an_invoice_run_clean_up_is_void_owing_nothing(
    context: MappingContext,
) -> None:
    """HEAD refused it (``unknown status 'Canceled'``): quarantined though valid."""
    mapped = invoice("Canceled", context)
    assert mapped.status is DocumentStatus.VOID
    assert mapped.balance == Money(Decimal("0.00"), "GBP")  # its Balance still shows 845.50
    assert mapped.total == Money(Decimal("845.50"), "GBP")
    assert mapped.number == "INV-0000108"
    assert mapped.customer_remote_id == "0015e00000QrStUAAV"
    assert (mapped.issue_date, mapped.due_date) == (date(2024, 6, 30), date(2024, 7, 30))


def test_both_spellings_map_alike_and_an_undocumented_status_is_still_refused() -> None:
    assert invoice("Cancelled").status is invoice("Canceled").status is DocumentStatus.VOID
    with pytest.raises(MappingError) as info:
        invoice("Paid")
    assert info.value.field == "blng__InvoiceStatus__c"


def test_the_status_written_back_for_void_is_still_cancelled() -> None:
    """The first wire value of a canonical status is the one written back: unchanged."""
    status_map = load_preset("salesforce_billing").invoice.status_map
    assert next(wire for wire, value in status_map.items() if value == "void") == "Cancelled"
    assert VERSION >= 13
