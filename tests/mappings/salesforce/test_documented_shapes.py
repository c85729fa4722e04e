"""Salesforce REST query results shaped as the object reference documents them (values are
our own), decoded as the client decodes them (numbers as Decimal) and mapped."""

# ruff: noqa: E501  (vendor payloads are kept on one line per record, as the docs show them)

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import PaymentStatus
from canonical.money import Money
from connectors.base import RawRecord
from connectors.salesforce.soql import incremental_query
from mappings.base import MappingContext, MappingError
from mappings.salesforce import MAPPERS
from mappings.salesforce.schema import load_preset

CTX = MappingContext("salesforce", home_currency="USD", options={"schema": "revenue_cloud"})


def record(stream: str, body: str) -> RawRecord:
    payload: dict[str, Any] = json.loads(body, parse_float=Decimal)
    return RawRecord(stream, payload["attributes"]["type"], payload["Id"], payload)


def line(
    lid: str, invoice: str, amount: str, kind: str, unapplied: str, of: str | None = None
) -> str:
    associated = json.dumps(of)
    return (
        f'{{"attributes": {{"type": "PaymentLineInvoice", "url": "/services/data/v62.0/sobjects/PaymentLineInvoice/{lid}"}}, '
        f'"Id": "{lid}", "PaymentId": "0a3R9", "InvoiceId": "{invoice}", "Amount": {amount}, '
        f'"HasBeenUnapplied": "{unapplied}", "Type": "{kind}", "AssociatedPaymentLineId": {associated}}}'
    )


def payment(lines: list[str] | None, balance: str = "150.00") -> str:
    children = (
        "null"
        if lines is None
        else f'{{"totalSize": {len(lines)}, "done": true, "records": [{", ".join(lines)}]}}'
    )
    return f"""{{
      "attributes": {{"type": "Payment", "url": "/services/data/v62.0/sobjects/Payment/0a3R9"}},
      "Id": "0a3R9", "SystemModstamp": "2024-06-03T09:30:00.000+0000",
      "LastModifiedDate": "2024-06-03T09:30:00.000+0000", "PaymentNumber": "PAY-0000099",
      "AccountId": "001R9", "Amount": 450.00, "Balance": {balance},
      "Date": "2024-06-01T00:00:00.000+0000", "GatewayRefNumber": null, "Status": "Processed",
      "CurrencyIsoCode": "USD", "QuickBooks_Id__c": null,
      "PaymentLinesInvoice": {children}
    }}"""


def test_unapplied_pair_applies_nothing() -> None:
    """Unapplying a line sets its HasBeenUnapplied to Yes and adds a Type Unapplied line whose
    HasBeenUnapplied is NA. Before: "NA" was not a boolean and the payment was quarantined."""
    body = payment(
        [
            line("0a6R1", "3ttR1", "300.00", "Applied", "No"),
            line("0a6R2", "3ttR2", "150.00", "Applied", "Yes"),
            line("0a6R3", "3ttR2", "150.00", "Unapplied", "NA", of="0a6R2"),
        ],
        balance="150.00",
    )
    mapped: Any = MAPPERS["payments"](record("payments", body), CTX)
    assert [(a.target, a.target_remote_id, a.amount.minor) for a in mapped.applied] == [
        ("invoice", "3ttR1", 30000)
    ]
    assert mapped.amount == Money(Decimal("450.00"), "USD")
    assert mapped.unapplied == Money(Decimal("150.00"), "USD")
    assert mapped.status is PaymentStatus.POSTED
    assert mapped.received_on == date(2024, 6, 1)
    assert mapped.modified_at == datetime(2024, 6, 3, 9, 30, tzinfo=UTC)
    assert mapped.reference == "PAY-0000099"  # no gateway reference: the payment number


def test_unapplied_line_is_skipped_by_its_type_alone() -> None:
    body = payment([line("0a6R3", "3ttR2", "150.00", "Unapplied", "No")], balance="450.00")
    mapped: Any = MAPPERS["payments"](record("payments", body), CTX)
    assert mapped.applied == []


def test_payment_without_lines_has_a_null_subquery() -> None:
    """A parent with no child rows carries null for the subquery."""
    mapped: Any = MAPPERS["payments"](record("payments", payment(None, "450.00")), CTX)
    assert mapped.applied == [] and mapped.unapplied.minor == 45000


def test_unknown_flag_value_names_the_row_and_field() -> None:
    body = payment([line("0a6R1", "3ttR1", "300.00", "Applied", "Maybe")])
    with pytest.raises(MappingError) as info:
        MAPPERS["payments"](record("payments", body), CTX)
    assert info.value.field == "PaymentLinesInvoice.records.0.HasBeenUnapplied"


def credit_application(lid: str, kind: str, unapplied: str, of: str | None) -> str:
    return f"""{{
      "attributes": {{"type": "CreditMemoInvApplication", "url": "/services/data/v62.0/sobjects/CreditMemoInvApplication/{lid}"}},
      "Id": "{lid}", "SystemModstamp": "2024-06-04T11:00:00.000+0000",
      "LastModifiedDate": "2024-06-04T11:00:00.000+0000", "CreditMemoId": "50gR4",
      "InvoiceId": "3ttR5", "Amount": 19.99, "AppliedDate": "2024-06-04T11:00:00.000+0000",
      "HasBeenUnapplied": "{unapplied}", "Type": "{kind}", "AssociatedLineId": {json.dumps(of)},
      "CurrencyIsoCode": "USD"
    }}"""


def test_credit_memo_application_applied() -> None:
    mapped: Any = MAPPERS["payments"](
        record("payments", credit_application("0bXR4", "Applied", "No", None)), CTX
    )
    assert [(a.target, a.target_remote_id, a.amount.amount) for a in mapped.applied] == [
        ("credit_memo", "50gR4", Decimal("19.99")),
        ("invoice", "3ttR5", Decimal("19.99")),
    ]
    assert mapped.status is PaymentStatus.POSTED and mapped.amount.minor == 0


@pytest.mark.parametrize(
    ("kind", "unapplied", "of"),
    [("Applied", "Yes", None), ("Unapplied", "NA", "0bXR4")],
)
def test_unapplied_credit_memo_applications_apply_nothing(
    kind: str, unapplied: str, of: str | None
) -> None:
    """Before: the Unapplied record ("NA") was quarantined, or (as a boolean-less Unapplied
    row) counted as a second application of the credit."""
    mapped: Any = MAPPERS["payments"](
        record("payments", credit_application("0bXR5", kind, unapplied, of)), CTX
    )
    assert mapped.applied == []
    assert mapped.status is PaymentStatus.VOID


def test_revenue_cloud_queries_select_the_line_type() -> None:
    schema = load_preset("revenue_cloud")
    apps = schema.payment.applications
    soql = incremental_query(
        schema.payment.sobject,
        schema.payment.select_fields(),
        since=None,
        until=None,
        children=[(apps.relationship, apps.select_fields())],
    )
    assert (
        "(SELECT Id, PaymentId, InvoiceId, Amount, HasBeenUnapplied, Type FROM PaymentLinesInvoice)"
        in soql
    )
    assert schema.credit_application is not None
    assert "Type" in schema.credit_application.select_fields()


def test_float_looking_amounts_stay_exact() -> None:
    """JSON numbers decoded with parse_float=Decimal: 0.1 + 0.2 style values are exact."""
    body = payment([line("0a6R1", "3ttR1", "0.30", "Applied", "No")], balance="449.70")
    body = body.replace('"Amount": 450.00', '"Amount": 450')
    mapped: Any = MAPPERS["payments"](record("payments", body), CTX)
    assert mapped.amount == Money(Decimal("450.00"), "USD")
    assert mapped.applied[0].amount.amount == Decimal("0.30")
    assert mapped.unapplied.amount == Decimal("449.70")


def test_the_values_of_a_reversing_line_type_are_the_orgs() -> None:
    """An org whose reversing lines carry another picklist value names it in the schema; the
    default stays Revenue Cloud's ``Unapplied``."""
    body = payment(
        [
            line("0a6R1", "3ttR1", "300.00", "Applied", "No"),
            line("0a6R3", "3ttR2", "150.00", "Unallocation", "No"),
        ]
    )
    mapped: Any = MAPPERS["payments"](record("payments", body), CTX)
    assert [a.target_remote_id for a in mapped.applied] == ["3ttR1", "3ttR2"]
    options = {
        "schema": {
            "preset": "revenue_cloud",
            "payment": {"applications": {"reversing_types": ["Unapplied", "Unallocation"]}},
        }
    }
    ctx = MappingContext("salesforce", home_currency="USD", options=options)
    mapped = MAPPERS["payments"](record("payments", body), ctx)
    assert [a.target_remote_id for a in mapped.applied] == ["3ttR1"]
