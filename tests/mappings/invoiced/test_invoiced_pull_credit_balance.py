"""Invoiced payments that spend the customer's credit balance (``applied_to`` entries of type
``applied_credit``, developer.invoiced.com/api "Payment Application"), mapped and stored.

The credit balance is no cash of the payment: the entry pays the invoice with credit, as a
``credit`` application, never as cash applied by the payment."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlmodel import select

from canonical.models import Application, Invoice
from canonical.money import Money
from canonical.records import PaymentIn
from canonical.store import Store
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.invoiced import MAPPERS
from sync.pull import PageWriter
from sync.settings import SystemOfRecord

CTX = MappingContext(system="invoiced")


def wire(text: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return body


def raw(stream: str, text: str) -> RawRecord:
    payload = wire(text)
    return RawRecord(
        stream=stream, object_type=stream, remote_id=str(payload["id"]), payload=payload
    )


def store_pages(store: Store, stream: str, *records: RawRecord) -> None:
    writer = PageWriter(
        tenant="default",
        system="invoiced",
        stream=stream,
        mapper=MAPPERS[stream],
        context=CTX,
        system_of_record=SystemOfRecord(),
    )
    with store.session() as session:
        writer.write(session, list(records))


SPEND_CREDIT = """{"id": 7001, "object": "payment", "customer": 15444, "date": 1715000000,
  "currency": "usd", "amount": 0, "balance": 0, "voided": false, "method": "balance",
  "reference": null, "notes": null, "charge": null, "created_at": 1715000000,
  "updated_at": 1715000100,
  "applied_to": [{"type": "applied_credit", "document_type": "invoice", "invoice": 46225,
                  "amount": 20.00}]}"""


def test_spending_the_credit_balance_is_no_cash_of_the_payment() -> None:
    result = MAPPERS["payments"](raw("payments", SPEND_CREDIT), CTX)
    assert isinstance(result, PaymentIn)
    assert result.amount == Money("0.00", "USD")
    assert [(a.target, a.target_remote_id, a.amount) for a in result.applied] == [
        ("credit", "credit_balance:15444", Money("20.00", "USD")),
        ("invoice", "46225", Money("20.00", "USD")),
    ]
    assert result.unapplied == Money("0.00", "USD")


def test_a_zero_amount_payment_spending_credit_applies_no_cash_in_the_store(
    sqlite_store: Store,
) -> None:
    store_pages(
        sqlite_store,
        "customers",
        raw("customers", """{"id": 15444, "name": "Acme", "number": "CUST-0001"}"""),
    )
    store_pages(
        sqlite_store,
        "invoices",
        raw(
            "invoices",
            """{"id": 46225, "customer": 15444, "currency": "usd", "number": "INV-0016",
            "status": "sent", "draft": false, "closed": false, "paid": false,
            "total": 51.15, "balance": 31.15, "date": 1416290400, "updated_at": 1715000100}""",
        ),
    )
    store_pages(sqlite_store, "payments", raw("payments", SPEND_CREDIT))
    with sqlite_store.session() as s:
        assert s.exec(select(Invoice)).one().balance == Money("31.15", "USD")
        # before: a 20.00 cash application from a payment of 0.00
        assert s.exec(select(Application)).all() == []


def test_cash_and_credit_balance_on_one_invoice_count_only_the_cash(sqlite_store: Store) -> None:
    store_pages(sqlite_store, "customers", raw("customers", """{"id": 9, "name": "Initech"}"""))
    store_pages(
        sqlite_store,
        "invoices",
        raw(
            "invoices",
            """{"id": 31, "customer": 9, "currency": "usd", "number": "INV-31",
            "status": "paid", "paid": true, "total": 120.00, "balance": 0}""",
        ),
    )
    store_pages(
        sqlite_store,
        "payments",
        raw(
            "payments",
            """{"id": 8001, "customer": 9, "currency": "usd", "amount": 100.00, "balance": 0,
            "voided": false, "applied_to": [
              {"type": "invoice", "invoice": 31, "amount": 100.00},
              {"type": "applied_credit", "document_type": "invoice", "invoice": 31,
               "amount": 20.00}]}""",
        ),
    )
    with sqlite_store.session() as s:
        apps = s.exec(select(Application)).all()
    # the payment's cash is 100.00: the 20.00 of credit balance is not counted as its cash
    assert {a.kind for a in apps} == {"payment"}
    assert sum(a.amount_minor for a in apps) == 10000


def test_each_credit_pays_the_invoice_its_entry_names_not_the_first_paid_in_cash(
    sqlite_store: Store,
) -> None:
    """Cash on INV-41, then a credit note and the credit balance on INV-42: the store pays a
    payment's invoice entries from its credits first, so the mapping lists each credit with
    its invoice before the cash (before, INV-41 took both credits and INV-42 was paid in
    cash it never got)."""
    store_pages(sqlite_store, "customers", raw("customers", """{"id": 9, "name": "Initech"}"""))
    store_pages(
        sqlite_store,
        "invoices",
        *(
            raw(
                "invoices",
                f"""{{"id": {n}, "customer": 9, "currency": "usd", "number": "INV-{n}",
                "status": "paid", "paid": true, "total": 100.00, "balance": 0}}""",
            )
            for n in (41, 42)
        ),
    )
    store_pages(
        sqlite_store,
        "credit_memos",
        raw(
            "credit_memos",
            """{"id": 501, "customer": 9, "currency": "usd", "number": "CN-501",
            "status": "paid", "total": 30.00, "balance": 0}""",
        ),
    )
    store_pages(
        sqlite_store,
        "payments",
        raw(
            "payments",
            """{"id": 8002, "customer": 9, "currency": "usd", "amount": 150.00, "balance": 0,
            "voided": false, "applied_to": [
              {"type": "invoice", "invoice": 41, "amount": 100.00},
              {"type": "credit_note", "credit_note": 501, "document_type": "invoice",
               "invoice": 42, "amount": 30.00},
              {"type": "applied_credit", "document_type": "invoice", "invoice": 42,
               "amount": 20.00},
              {"type": "invoice", "invoice": 42, "amount": 50.00}]}""",
        ),
    )
    with sqlite_store.session() as s:
        numbers = {i.id: i.number for i in s.exec(select(Invoice)).all()}
        apps = s.exec(select(Application)).all()
    assert sorted((numbers[a.invoice_id], a.kind, a.amount_minor) for a in apps) == [
        ("INV-41", "payment", 10000),
        ("INV-42", "credit_memo", 3000),
        ("INV-42", "payment", 5000),
    ]
