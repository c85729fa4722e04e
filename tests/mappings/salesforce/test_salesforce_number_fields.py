"""Salesforce Number fields read as text. The REST API writes every Number field as a double,
whole numbers included (``1234567.0``, ``1.2345678E7``: Salesforce knowledge article 000221617);
an org keeping a document number, a PO number or another system's id in one must map to the
digits the user sees, or the number matches nothing in the other systems. Records shaped like
REST query results, values our own, decoded as the client decodes them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.salesforce import MAPPERS

# an org whose invoice number and PO number are Number fields (its QuickBooks id too)
CTX = MappingContext(
    "salesforce",
    options={
        "schema": {
            "preset": "custom_objects",
            "invoice": {"number": "Invoice_No__c", "reference": "PO_No__c"},
            "payment": {"reference": "Check_No__c"},
        }
    },
)


def mapped(stream: str, text: str) -> Any:
    payload: dict[str, Any] = json.loads(text, parse_float=Decimal)
    record = RawRecord(stream, payload["attributes"]["type"], payload["Id"], payload)
    return MAPPERS[stream](record, CTX)


def invoice(number: str, po: str, qbo: str) -> str:
    return f"""{{"attributes": {{"type": "Invoice__c",
                    "url": "/services/data/v62.0/sobjects/Invoice__c/a0B5e00000AbCdEEAV"}},
        "Id": "a0B5e00000AbCdEEAV", "SystemModstamp": "2024-01-31T18:22:05.000+0000",
        "LastModifiedDate": "2024-01-31T18:22:05.000+0000", "Invoice_No__c": {number},
        "Account__c": "0015e00000XyZabAAB", "Amount__c": 1234.5, "Balance__c": 1.0E3,
        "Status__c": "Open", "Invoice_Date__c": "2024-01-31", "Due_Date__c": null,
        "CurrencyIsoCode": "USD", "PO_No__c": {po}, "QuickBooks_Id__c": {qbo}}}"""


@pytest.mark.parametrize(
    ("number", "po", "qbo", "expected"),
    [
        ("1001.0", "4500012345.0", "58.0", ("1001", "4500012345", "58")),
        ("1.2345678E7", "1.0E3", "5.8E1", ("12345678", "1000", "58")),
        ("1001", "null", "58", ("1001", None, "58")),
    ],
)
def test_whole_numbers_in_number_fields_read_as_their_digits(
    number: str, po: str, qbo: str, expected: tuple[str, str | None, str]
) -> None:
    result = mapped("invoices", invoice(number, po, qbo))
    assert (result.number, result.po_number, result.links["quickbooks"]) == expected
    assert result.total == Money("1234.50", "USD") and result.balance == Money("1000.00", "USD")


def test_a_fraction_in_a_number_field_is_kept() -> None:
    result = mapped("invoices", invoice("1001.5", "null", "null"))
    assert result.number == "1001.5" and result.links == {}


def test_a_check_number_kept_in_a_number_field() -> None:
    result = mapped(
        "payments",
        """{"attributes": {"type": "Payment__c", "url": "/x"}, "Id": "a0P5e00000AbCdEEAV",
        "Name": "PAY-0001", "SystemModstamp": "2024-01-31T18:22:05.000+0000",
        "Account__c": "0015e00000XyZabAAB", "Amount__c": 1.0E3, "Unapplied_Amount__c": null,
        "Payment_Date__c": "2024-01-31", "Payment_Method__c": "Check", "Check_No__c": 10452.0,
        "Status__c": "Posted", "CurrencyIsoCode": "USD", "Payment_Applications__r": null}""",
    )
    assert result.reference == "10452"
    assert result.amount == Money("1000.00", "USD") and result.unapplied == result.amount
