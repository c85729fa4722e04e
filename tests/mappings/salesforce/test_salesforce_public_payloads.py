"""Salesforce REST query records as the REST API writes them (``attributes``, null fields, a
parent relationship object, ``+0000`` stamps, numbers in exponent form such as ``1.5E4``), values
our own, decoded as the client decodes them and mapped with the custom-objects preset."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from canonical.enums import DocumentStatus
from canonical.money import Money
from connectors.base import RawRecord
from connectors.salesforce.streams import parse_sf_datetime
from mappings.base import MappingContext
from mappings.salesforce import MAPPERS

CTX = MappingContext("salesforce", home_currency="USD", options={"schema": "custom_objects"})


def mapped(stream: str, text: str) -> Any:
    payload: dict[str, Any] = json.loads(text, parse_float=Decimal)
    record = RawRecord(
        stream,
        payload["attributes"]["type"],
        payload["Id"],
        payload,
        parse_sf_datetime(payload["SystemModstamp"]),
        remote_version=payload["LastModifiedDate"],
    )
    return MAPPERS[stream](record, CTX)


def test_exponent_amounts_nulls_and_a_parent_relationship() -> None:
    invoice = mapped(
        "invoices",
        """{"attributes": {"type": "Invoice__c",
                           "url": "/services/data/v62.0/sobjects/Invoice__c/a0B5e00000AbCdEEAV"},
        "Id": "a0B5e00000AbCdEEAV", "SystemModstamp": "2024-05-01T17:04:05.000+0000",
        "LastModifiedDate": "2024-05-01T17:04:05.000+0000", "Invoice_Number__c": "INV-1001",
        "Account__c": "0015e00000XyZabAAB", "Amount__c": 1.5E4, "Balance__c": 1.2505E3,
        "Status__c": "Partially Paid", "Invoice_Date__c": "2024-04-01", "Due_Date__c": null,
        "CurrencyIsoCode": "EUR", "PO_Number__c": null, "QuickBooks_Id__c": null,
        "Account__r": {"attributes": {"type": "Account", "url": "/x"}, "Name": "Acme"}}""",
    )
    assert invoice.total == Money("15000.00", "EUR")
    assert invoice.balance == Money("1250.50", "EUR")
    assert invoice.status is DocumentStatus.OPEN and invoice.links == {}
    assert invoice.issue_date == date(2024, 4, 1)
    assert invoice.due_date is None and invoice.po_number is None
    assert invoice.modified_at == datetime(2024, 5, 1, 17, 4, 5, tzinfo=UTC)
    assert invoice.customer_remote_id == "0015e00000XyZabAAB"
