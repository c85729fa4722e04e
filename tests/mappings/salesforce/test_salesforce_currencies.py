"""Salesforce amounts and currencies, in the shapes Salesforce documents (values our own).

Sources: Object Reference, CurrencyType ("DecimalPlaces ... zero (0) for JPY or 2 for USD";
"not available in single-currency organizations"); Billing objects (``CurrencyIsoCode``: "the
three-letter ISO 4217 currency code associated with the invoice when multiple currencies are
enabled"); the currency fields of a record are in that record's ``CurrencyIsoCode``. A
single-currency org has no ``CurrencyIsoCode``: its amounts are in the corporate currency
(``Organization.DefaultCurrencyIsoCode``), configured as mapping option ``currency``. REST
amounts are JSON numbers.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from canonical.money import Money
from connectors.base import RawRecord
from mappings.base import MappingContext, MappingError
from mappings.salesforce import MAPPERS

CTX = MappingContext(system="salesforce", home_currency="USD", options={"schema": "custom_objects"})


def mapped(stream: str, sobject: str, body: dict[str, Any], ctx: MappingContext = CTX) -> Any:
    payload = json.loads(json.dumps(body), parse_float=Decimal)
    return MAPPERS[stream](RawRecord(stream, sobject, payload["Id"], payload), ctx)


def invoice(**fields: Any) -> dict[str, Any]:
    body = {
        "attributes": {"type": "Invoice__c"},
        "Id": "a0B000000000001AAA",
        "Invoice_Number__c": "INV-1",
        "Account__c": "001000000000001AAA",
        "Status__c": "Open",
        "CurrencyIsoCode": "EUR",
        "Amount__c": 1250.5,
        "Balance__c": 250.5,
        "SystemModstamp": "2026-03-01T10:00:00.000+0000",
    }
    body.update(fields)
    return body


def test_invoice_amounts_are_in_the_record_currency() -> None:
    record = mapped("invoices", "Invoice__c", invoice())
    assert record.total == Money("1250.50", "EUR")
    assert record.balance == Money("250.50", "EUR")


def test_single_currency_org_uses_the_configured_corporate_currency() -> None:
    body = invoice()
    del body["CurrencyIsoCode"]
    ctx = MappingContext(
        system="salesforce",
        home_currency="USD",
        options={"schema": "custom_objects", "currency": "CAD"},
    )
    assert mapped("invoices", "Invoice__c", body, ctx).total == Money("1250.50", "CAD")


def test_jpy_and_kwd_exponents() -> None:
    jpy = mapped("invoices", "Invoice__c", invoice(CurrencyIsoCode="JPY", Amount__c=150000))
    assert str(jpy.total.amount) == "150000"
    kwd = mapped("invoices", "Invoice__c", invoice(CurrencyIsoCode="KWD", Amount__c=12.345))
    assert str(kwd.total.amount) == "12.345"


def test_extra_decimals_round_half_even() -> None:
    # mappings/salesforce/common.py: the API keeps what was written; rounded, not refused
    record = mapped("invoices", "Invoice__c", invoice(CurrencyIsoCode="JPY", Amount__c=1000.5))
    assert record.total == Money(1000, "JPY")


def test_bad_currency_code_names_the_currency_field() -> None:
    with pytest.raises(MappingError) as caught:
        mapped("invoices", "Invoice__c", invoice(CurrencyIsoCode="EURO"))
    assert caught.value.field == "CurrencyIsoCode"


def payment(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "attributes": {"type": "Payment__c"},
        "Id": "a0P000000000001AAA",
        "Name": "PMT-1",
        "Account__c": "001000000000001AAA",
        "CurrencyIsoCode": "GBP",
        "Amount__c": 300,
        "Status__c": "Posted",
        "SystemModstamp": "2026-03-05T10:00:00.000+0000",
        "Payment_Applications__r": {"totalSize": len(rows), "done": True, "records": rows},
    }


def test_payment_applications_are_in_the_payment_currency() -> None:
    rows = [{"Invoice__c": "a0B000000000001AAA", "Amount__c": 250, "CurrencyIsoCode": "GBP"}]
    record = mapped("payments", "Payment__c", payment(rows))
    assert record.amount == Money("300.00", "GBP")
    assert record.applied[0].amount == Money("250.00", "GBP")
    assert record.unapplied == Money("50.00", "GBP")


def test_application_row_in_another_currency_is_refused_naming_it() -> None:
    rows = [{"Invoice__c": "a0B000000000001AAA", "Amount__c": 250, "CurrencyIsoCode": "USD"}]
    with pytest.raises(MappingError) as caught:
        mapped("payments", "Payment__c", payment(rows))
    assert caught.value.field == "Payment_Applications__r.records.0.CurrencyIsoCode"
    assert "GBP" in caught.value.reason


def test_field_names_configured_in_another_case_read_the_fields_salesforce_returns() -> None:
    """SOQL takes field names in any case and answers in the org's own spelling (the describe
    result's ``name``): a configured ``amount__c`` reads ``Amount__c`` (every record was
    quarantined as "is required but missing")."""
    ctx = MappingContext(
        system="salesforce",
        home_currency="USD",
        options={
            "schema": {
                "preset": "custom_objects",
                "invoice": {
                    "total": "amount__c",
                    "balance": "BALANCE__C",
                    "currency": "currencyisocode",
                },
            }
        },
    )
    record = mapped("invoices", "Invoice__c", invoice(), ctx)
    assert (record.total, record.balance) == (Money("1250.50", "EUR"), Money("250.50", "EUR"))
