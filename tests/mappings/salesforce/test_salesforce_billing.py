"""Salesforce Billing (managed package, namespace ``blng__``) records as the REST API returns
them, mapped with the ``salesforce_billing`` preset.

Shapes: query results with ``attributes`` blocks, parent fields nested under their relationship
(``blng__InvoiceLine__r``), child rows under the payment's relationship ``{"totalSize",
"done", "records"}`` (``null`` without rows), ``CurrencyIsoCode`` of a multi-currency org.
Object, field, relationship and picklist names from the Salesforce Billing object reference;
the values are our own.
"""

# ruff: noqa: E501  (vendor payloads are kept on one line per record, as the API returns them)

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from canonical.enums import DocumentStatus, PaymentStatus
from canonical.money import Money
from connectors.base import RawRecord
from connectors.salesforce.soql import incremental_query
from mappings.base import MappingContext, MappingError
from mappings.salesforce import MAPPERS
from mappings.salesforce.common import value
from mappings.salesforce.schema import SalesforceSchema, load_preset, preset_names

CTX = MappingContext("salesforce", home_currency="USD", options={"schema": "salesforce_billing"})
AUTO = MappingContext("salesforce", home_currency="USD")  # the preset chosen by the SObject
V = "/services/data/v62.0/sobjects"


def record(stream: str, body: str) -> RawRecord:
    payload: dict[str, Any] = json.loads(body, parse_float=Decimal)
    return RawRecord(stream, payload["attributes"]["type"], payload["Id"], payload)


INVOICE = f"""{{
  "attributes": {{"type": "blng__Invoice__c", "url": "{V}/blng__Invoice__c/a0P5e00000AbCdEEAV"}},
  "Id": "a0P5e00000AbCdEEAV", "SystemModstamp": "2024-06-03T09:30:00.000+0000",
  "LastModifiedDate": "2024-06-03T09:29:58.000+0000", "Name": "INV-0000042",
  "blng__Account__c": "0015e00000R9xYzAAB", "blng__TotalAmount__c": 1210.00,
  "blng__Balance__c": 410.00, "blng__InvoiceStatus__c": "Posted",
  "blng__InvoiceDate__c": "2024-05-01", "blng__DueDate__c": "2024-05-31",
  "CurrencyIsoCode": "EUR", "QuickBooks_Id__c": null
}}"""

CREDIT_NOTE = f"""{{
  "attributes": {{"type": "blng__CreditNote__c", "url": "{V}/blng__CreditNote__c/a0K5e000001CnOtEAK"}},
  "Id": "a0K5e000001CnOtEAK", "SystemModstamp": "2024-06-04T10:00:00.000+0000",
  "LastModifiedDate": "2024-06-04T10:00:00.000+0000", "Name": "CN-0000007",
  "blng__Account__c": "0015e00000R9xYzAAB", "blng__TotalAmount__c": 100.00,
  "blng__Balance__c": 0.00, "blng__Status__c": "Posted",
  "blng__CreditNoteDate__c": "2024-06-04", "CurrencyIsoCode": "EUR", "QuickBooks_Id__c": "311"
}}"""


def allocation(
    aid: str, line: str, invoice: str | None, amount: str, kind: str | None, unallocated: bool
) -> str:
    parent = (
        "null"
        if invoice is None
        else f'{{"attributes": {{"type": "blng__InvoiceLine__c", "url": "{V}/blng__InvoiceLine__c/{line}"}}, "blng__Invoice__c": "{invoice}"}}'
    )
    return (
        f'{{"attributes": {{"type": "blng__PaymentAllocationInvoiceLine__c", "url": "{V}/blng__PaymentAllocationInvoiceLine__c/{aid}"}}, '
        f'"Id": "{aid}", "blng__Payment__c": "a0S5e000002PaYmEAC", "blng__InvoiceLine__r": {parent}, '
        f'"blng__Amount__c": {amount}, "blng__Unallocated__c": {json.dumps(unallocated)}, "blng__Type__c": {json.dumps(kind)}}}'
    )


def payment(rows: list[str] | None, *, status: str = "Processed", balance: str = "50.00") -> str:
    children = (
        "null"
        if rows is None
        else f'{{"totalSize": {len(rows)}, "done": true, "records": [{", ".join(rows)}]}}'
    )
    return f"""{{
      "attributes": {{"type": "blng__Payment__c", "url": "{V}/blng__Payment__c/a0S5e000002PaYmEAC"}},
      "Id": "a0S5e000002PaYmEAC", "SystemModstamp": "2024-06-05T08:15:00.000+0000",
      "LastModifiedDate": "2024-06-05T08:15:00.000+0000", "Name": "P-0000123",
      "blng__Account__c": "0015e00000R9xYzAAB", "blng__Amount__c": 850.00,
      "blng__Balance__c": {balance}, "blng__PaymentDate__c": "2024-06-02",
      "blng__PaymentType__c": "Bank Transfer", "blng__GatewayID__c": null,
      "blng__Status__c": "{status}", "CurrencyIsoCode": "EUR", "QuickBooks_Id__c": null,
      "blng__PaymentAllocations_del__r": {children}
    }}"""


def credit_allocation(aid: str, kind: str, unallocated: bool, *, line_parent: bool = True) -> str:
    credit_line = (
        f'{{"attributes": {{"type": "blng__CreditNoteLine__c", "url": "{V}/blng__CreditNoteLine__c/a0J5e0000011AAAEA2"}}, '
        f'"blng__CreditNote__c": "a0K5e000001CnOtEAK", "blng__CreditNote__r": {{"attributes": {{"type": "blng__CreditNote__c", "url": "{V}/blng__CreditNote__c/a0K5e000001CnOtEAK"}}, "blng__Account__c": "0015e00000R9xYzAAB"}}}}'
        if line_parent
        else "null"
    )
    return f"""{{
      "attributes": {{"type": "blng__CreditNoteAllocation__c", "url": "{V}/blng__CreditNoteAllocation__c/{aid}"}},
      "Id": "{aid}", "SystemModstamp": "2024-06-04T10:05:00.000+0000",
      "LastModifiedDate": "2024-06-04T10:05:00.000+0000",
      "blng__CreditNoteLine__r": {credit_line},
      "blng__InvoiceLine__r": {{"attributes": {{"type": "blng__InvoiceLine__c", "url": "{V}/blng__InvoiceLine__c/a0M5e0000022BBBEA2"}}, "blng__Invoice__c": "a0P5e00000AbCdEEAV"}},
      "blng__Amount__c": 100.00, "CreatedDate": "2024-06-04T10:04:59.000+0000",
      "blng__Unallocated__c": {json.dumps(unallocated)}, "blng__Type__c": "{kind}",
      "CurrencyIsoCode": "EUR"
    }}"""


# documents ---------------------------------------------------------------------------------


def test_posted_invoice_with_a_balance_is_open() -> None:
    mapped: Any = MAPPERS["invoices"](record("invoices", INVOICE), CTX)
    assert mapped.number == "INV-0000042"
    assert mapped.customer_remote_id == "0015e00000R9xYzAAB"
    assert mapped.total == Money(Decimal("1210.00"), "EUR")
    assert mapped.balance == Money(Decimal("410.00"), "EUR")
    assert mapped.status is DocumentStatus.OPEN
    assert (mapped.issue_date, mapped.due_date) == (date(2024, 5, 1), date(2024, 5, 31))
    assert mapped.modified_at == datetime(2024, 6, 3, 9, 30, tzinfo=UTC)
    assert mapped.remote_version == "2024-06-03T09:29:58.000+0000"
    assert mapped.links == {}  # QuickBooks_Id__c is null


@pytest.mark.parametrize(
    ("wire", "balance", "expected"),
    [
        ("Posted", "0.00", DocumentStatus.PAID),
        ("Rebilled", "0.00", DocumentStatus.PAID),  # credited in full by Cancel and Rebill
        ("Draft", "1210.00", DocumentStatus.DRAFT),
        ("Initiated", "1210.00", DocumentStatus.DRAFT),
        ("Post In progress", "1210.00", DocumentStatus.DRAFT),
        ("Error", "1210.00", DocumentStatus.DRAFT),
        ("Cancelled", "0.00", DocumentStatus.VOID),
    ],
)
def test_invoice_statuses(wire: str, balance: str, expected: DocumentStatus) -> None:
    body = json.loads(INVOICE, parse_float=Decimal)
    body.update({"blng__InvoiceStatus__c": wire, "blng__Balance__c": Decimal(balance)})
    mapped: Any = MAPPERS["invoices"](
        RawRecord("invoices", "blng__Invoice__c", body["Id"], body), CTX
    )
    assert mapped.status is expected


def test_an_undocumented_invoice_status_names_the_field() -> None:
    body = INVOICE.replace('"Posted"', '"Paid"')
    with pytest.raises(MappingError) as info:
        MAPPERS["invoices"](record("invoices", body), CTX)
    assert info.value.field == "blng__InvoiceStatus__c"


def test_credit_note_fully_allocated_is_paid() -> None:
    mapped: Any = MAPPERS["credit_memos"](record("credit_memos", CREDIT_NOTE), CTX)
    assert mapped.number == "CN-0000007"
    assert mapped.total == Money(Decimal("100.00"), "EUR") and mapped.balance.is_zero()
    assert mapped.status is DocumentStatus.PAID
    assert mapped.issue_date == date(2024, 6, 4)
    assert mapped.links == {"quickbooks": "311"}


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("Draft", DocumentStatus.DRAFT),
        ("Cancelled", DocumentStatus.VOID),
        ("Canceled", DocumentStatus.VOID),  # HEAD refused it: quarantined though void
    ],
)
def test_credit_note_statuses(wire: str, expected: DocumentStatus) -> None:
    body = CREDIT_NOTE.replace('"blng__Status__c": "Posted"', f'"blng__Status__c": "{wire}"')
    assert MAPPERS["credit_memos"](record("credit_memos", body), CTX).status is expected  # type: ignore[attr-defined]


# payments and their allocations -----------------------------------------------------------


def test_payment_allocated_to_invoice_lines_with_an_unallocation_pair() -> None:
    """Two lines of one invoice and one of another; the allocation to INV-B was undone: its
    row is flagged Unallocated and a row of Type Unallocation was added. The pair applies
    nothing; the two lines of INV-A are two entries for the same invoice."""
    body = payment(
        [
            allocation(
                "a0T5e0000001AAAEA2",
                "a0M5e00000L1AAAEA2",
                "a0P5e00000AbCdEEAV",
                "500.00",
                "Allocation",
                False,
            ),
            allocation(
                "a0T5e0000001AABEA2",
                "a0M5e00000L2AAAEA2",
                "a0P5e00000AbCdEEAV",
                "300.00",
                "Allocation",
                False,
            ),
            allocation(
                "a0T5e0000001AACEA2",
                "a0M5e00000L3AAAEA2",
                "a0P5e00000BbBbBEAV",
                "120.00",
                "Allocation",
                True,
            ),
            allocation(
                "a0T5e0000001AADEA2",
                "a0M5e00000L3AAAEA2",
                "a0P5e00000BbBbBEAV",
                "120.00",
                "Unallocation",
                False,
            ),
        ],
        balance="50.00",
    )
    mapped: Any = MAPPERS["payments"](record("payments", body), CTX)
    assert [(a.target, a.target_remote_id, a.amount.amount) for a in mapped.applied] == [
        ("invoice", "a0P5e00000AbCdEEAV", Decimal("500.00")),
        ("invoice", "a0P5e00000AbCdEEAV", Decimal("300.00")),
    ]
    assert mapped.amount == Money(Decimal("850.00"), "EUR")
    assert mapped.unapplied == Money(Decimal("50.00"), "EUR")
    assert mapped.status is PaymentStatus.POSTED
    assert mapped.received_on == date(2024, 6, 2)
    assert mapped.method == "Bank Transfer"
    assert mapped.reference == "P-0000123"  # no gateway id: the payment's Name
    assert mapped.customer_remote_id == "0015e00000R9xYzAAB"


def test_an_allocation_without_a_type_still_counts() -> None:
    """blng__Type__c is nillable: a row without it and not unallocated is an allocation."""
    body = payment(
        [
            allocation(
                "a0T5e0000001AAAEA2",
                "a0M5e00000L1AAAEA2",
                "a0P5e00000AbCdEEAV",
                "800.00",
                None,
                False,
            )
        ]
    )
    mapped: Any = MAPPERS["payments"](record("payments", body), CTX)
    assert [a.amount.amount for a in mapped.applied] == [Decimal("800.00")]


def test_payment_without_allocations_has_a_null_subquery() -> None:
    mapped: Any = MAPPERS["payments"](record("payments", payment(None, balance="850.00")), CTX)
    assert mapped.applied == [] and mapped.unapplied == Money(Decimal("850.00"), "EUR")


def test_an_allocation_whose_line_names_no_invoice_is_refused() -> None:
    body = payment(
        [
            allocation(
                "a0T5e0000001AAAEA2", "a0M5e00000L1AAAEA2", None, "800.00", "Allocation", False
            )
        ]
    )
    with pytest.raises(MappingError) as info:
        MAPPERS["payments"](record("payments", body), CTX)
    assert (
        info.value.field
        == "blng__PaymentAllocations_del__r.records.0.blng__InvoiceLine__r.blng__Invoice__c"
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Posted", PaymentStatus.POSTED),  # the status a payment is allocated in
        ("Processed", PaymentStatus.POSTED),
        ("Draft", PaymentStatus.VOID),  # still editable, not yet allocatable
        ("Failed", PaymentStatus.VOID),  # the authorization failed: no cash
        ("Cancelled", PaymentStatus.VOID),
    ],
)
def test_payment_statuses(status: str, expected: PaymentStatus) -> None:
    mapped: Any = MAPPERS["payments"](record("payments", payment(None, status=status)), CTX)
    assert mapped.status is expected


def test_an_undocumented_payment_status_is_refused_naming_it() -> None:
    with pytest.raises(MappingError) as info:
        MAPPERS["payments"](record("payments", payment(None, status="Settled")), CTX)
    assert info.value.field == "blng__Status__c" and "Settled" in str(info.value)


def test_credit_note_allocation_applies_the_credit_note_to_the_invoice() -> None:
    mapped: Any = MAPPERS["payments"](
        record("payments", credit_allocation("a0L5e0000003CCCEA2", "Allocation", False)), CTX
    )
    assert [(a.target, a.target_remote_id, a.amount.amount) for a in mapped.applied] == [
        ("credit_memo", "a0K5e000001CnOtEAK", Decimal("100.00")),
        ("invoice", "a0P5e00000AbCdEEAV", Decimal("100.00")),
    ]
    assert mapped.customer_remote_id == "0015e00000R9xYzAAB"  # two relationships up
    assert mapped.received_on == date(2024, 6, 4)
    assert mapped.amount.is_zero() and mapped.status is PaymentStatus.POSTED


@pytest.mark.parametrize(("kind", "unallocated"), [("Allocation", True), ("Unallocation", False)])
def test_unallocated_credit_note_allocations_apply_nothing(kind: str, unallocated: bool) -> None:
    mapped: Any = MAPPERS["payments"](
        record("payments", credit_allocation("a0L5e0000003CCDEA2", kind, unallocated)), CTX
    )
    assert mapped.applied == [] and mapped.status is PaymentStatus.VOID


def test_a_credit_note_allocation_without_its_credit_note_line_is_refused() -> None:
    body = credit_allocation("a0L5e0000003CCCEA2", "Allocation", False, line_parent=False)
    with pytest.raises(MappingError) as info:
        MAPPERS["payments"](record("payments", body), CTX)
    assert info.value.field == "blng__CreditNoteLine__r.blng__CreditNote__c"


# the preset itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "body"),
    [
        ("invoices", INVOICE),
        ("credit_memos", CREDIT_NOTE),
        ("payments", payment(None)),
        ("payments", credit_allocation("a0L5e0000003CCCEA2", "Allocation", False)),
    ],
)
def test_the_preset_is_chosen_by_the_records_sobject(stream: str, body: str) -> None:
    assert "salesforce_billing" in preset_names()
    assert MAPPERS[stream](record(stream, body), AUTO) == MAPPERS[stream](record(stream, body), CTX)


def test_queries_built_from_the_preset() -> None:
    schema = load_preset("salesforce_billing")
    apps = schema.payment.applications
    until = datetime(2024, 6, 5, 8, 15, 30, 500000, tzinfo=UTC)
    soql = incremental_query(
        schema.payment.sobject,
        schema.payment.select_fields(),
        since=datetime(2024, 6, 1, tzinfo=UTC),
        until=until,
        children=[(apps.relationship, apps.select_fields())],
    )
    assert soql == (
        "SELECT Id, SystemModstamp, LastModifiedDate, Name, blng__Account__c, blng__Amount__c, "
        "blng__Balance__c, blng__PaymentDate__c, blng__PaymentType__c, blng__GatewayID__c, "
        "blng__Status__c, CurrencyIsoCode, QuickBooks_Id__c, (SELECT Id, blng__Payment__c, "
        "blng__InvoiceLine__r.blng__Invoice__c, blng__Amount__c, blng__Unallocated__c, "
        "blng__Type__c FROM blng__PaymentAllocations_del__r) FROM blng__Payment__c "
        "WHERE SystemModstamp > 2024-06-01T00:00:00Z AND SystemModstamp < 2024-06-05T08:15:31Z "
        "ORDER BY SystemModstamp ASC, Id ASC"
    )
    credit = schema.credit_application
    assert credit is not None
    assert incremental_query(credit.sobject, credit.select_fields(), since=None, until=until) == (
        "SELECT Id, SystemModstamp, LastModifiedDate, blng__CreditNoteLine__r.blng__CreditNote__c, "
        "blng__InvoiceLine__r.blng__Invoice__c, blng__Amount__c, "
        "blng__CreditNoteLine__r.blng__CreditNote__r.blng__Account__c, CreatedDate, "
        "blng__Unallocated__c, blng__Type__c, CurrencyIsoCode FROM blng__CreditNoteAllocation__c "
        "WHERE SystemModstamp < 2024-06-05T08:15:31Z ORDER BY SystemModstamp ASC, Id ASC"
    )
    invoice = schema.invoice.select_fields()
    assert "AR_Balance__c" not in invoice and "Paid_Date__c" not in invoice  # written, not read


def test_header_level_allocations_are_an_override() -> None:
    """With Advanced AR Application off, payments are allocated to invoice headers."""
    schema = SalesforceSchema.model_validate(
        {
            "preset": "salesforce_billing",
            "payment": {
                "applications": {
                    "sobject": "blng__PaymentAllocationInvoice__c",
                    "relationship": "blng__Payment_Invoice_Allocations__r",
                    "invoice": "blng__Invoice__c",
                }
            },
        }
    )
    row = (
        f'{{"attributes": {{"type": "blng__PaymentAllocationInvoice__c", "url": "{V}/blng__PaymentAllocationInvoice__c/a1V5e000000EXomUAG"}}, '
        '"Id": "a1V5e000000EXomUAG", "blng__Payment__c": "a0S5e000002PaYmEAC", "blng__Invoice__c": "a0P5e00000AbCdEEAV", '
        '"blng__Amount__c": 800.00, "blng__Unallocated__c": false, "blng__Type__c": "Allocation"}'
    )
    body = payment([]).replace(
        '"blng__PaymentAllocations_del__r": {"totalSize": 0, "done": true, "records": []}',
        f'"blng__Payment_Invoice_Allocations__r": {{"totalSize": 1, "done": true, "records": [{row}]}}',
    )
    ctx = MappingContext("salesforce", home_currency="USD", options={"schema": schema})
    mapped: Any = MAPPERS["payments"](record("payments", body), ctx)
    assert [(a.target_remote_id, a.amount.amount) for a in mapped.applied] == [
        ("a0P5e00000AbCdEEAV", Decimal("800.00"))
    ]


def test_relationship_paths_only_where_the_schema_reads_references() -> None:
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        SalesforceSchema.model_validate(
            {"preset": "salesforce_billing", "invoice": {"balance": "blng__Order__r.TotalAmount"}}
        )
    with pytest.raises(ValueError, match="relationship path"):
        SalesforceSchema.model_validate(
            {
                "preset": "salesforce_billing",
                "payment": {"applications": {"invoice": "a.b.c.d.e.f.g"}},
            }
        )


def test_a_path_through_an_empty_lookup_reads_as_none() -> None:
    row = {"blng__InvoiceLine__r": None, "Flat__c": "x", "Parent__r": {"Name": ""}}
    assert value(row, "blng__InvoiceLine__r.blng__Invoice__c") is None
    assert value(row, "Parent__r.Name") is None
    assert value(row, "Flat__c") == "x"
