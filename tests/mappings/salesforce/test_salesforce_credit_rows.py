"""A Salesforce payment whose rows pay one invoice in cash and apply a credit memo to
another: each credit stays on the invoice its row names (the store pays a payment's invoice
entries from its credits in order before its cash; the mapping lists the credits first)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import select

from canonical.models import Application, CreditMemo, Invoice
from canonical.store import Store
from connectors.base import RawRecord
from mappings.base import MappingContext
from mappings.registry import mapper
from sync.pull import PageWriter
from sync.settings import SystemOfRecord

CTX = MappingContext("salesforce", home_currency="USD")
STAMP = datetime(2024, 5, 3, tzinfo=UTC)


def put(store: Store, stream: str, sobject: str, rows: list[dict[str, Any]]) -> None:
    writer = PageWriter(
        tenant="default",
        system="salesforce",
        stream=stream,
        mapper=mapper("salesforce", stream),
        context=CTX,
        system_of_record=SystemOfRecord(),
    )
    with store.session() as session:
        writer.write(
            session, [RawRecord(stream, sobject, r["Id"], r, modified_at=STAMP) for r in rows]
        )


def invoice(record_id: str, number: str) -> dict[str, Any]:
    return {
        "attributes": {"type": "Invoice__c"},
        "Id": record_id,
        "Invoice_Number__c": number,
        "Account__c": "001R1",
        "Amount__c": Decimal("100.00"),
        "Balance__c": Decimal("0"),
        "Status__c": "Paid",
        "Invoice_Date__c": "2024-04-01",
        "CurrencyIsoCode": "USD",
    }


def test_a_credit_row_stays_on_the_invoice_it_names(sqlite_store: Store) -> None:
    account = {"attributes": {"type": "Account"}, "Id": "001R1", "Name": "ACME"}
    put(sqlite_store, "customers", "Account", [{**account, "CurrencyIsoCode": "USD"}])
    put(
        sqlite_store,
        "invoices",
        "Invoice__c",
        [invoice("a01R1", "INV-1"), invoice("a01R2", "INV-2")],
    )
    memo = {
        "attributes": {"type": "Credit_Memo__c"},
        "Id": "a02R1",
        "Credit_Memo_Number__c": "CM-1",
        "Account__c": "001R1",
        "Amount__c": Decimal("40.00"),
        "Balance__c": Decimal("0"),
        "Status__c": "Applied",
        "CurrencyIsoCode": "USD",
    }
    put(sqlite_store, "credit_memos", "Credit_Memo__c", [memo])
    rows = [
        {"attributes": {"type": "Payment_Application__c"}, "Id": "a04R1",
         "Invoice__c": "a01R1", "Amount__c": Decimal("100.00")},
        {"attributes": {"type": "Payment_Application__c"}, "Id": "a04R2",
         "Invoice__c": "a01R2", "Credit_Memo__c": "a02R1", "Amount__c": Decimal("40.00")},
    ]  # fmt: skip
    payment = {
        "attributes": {"type": "Payment__c"},
        "Id": "a03R1",
        "Name": "PAY-1",
        "Account__c": "001R1",
        "Amount__c": Decimal("100.00"),
        "Payment_Date__c": "2024-05-03",
        "Status__c": "Posted",
        "CurrencyIsoCode": "USD",
        "Payment_Applications__r": {"totalSize": 2, "done": True, "records": rows},
    }
    put(sqlite_store, "payments", "Payment__c", [payment])
    with sqlite_store.session() as s:
        numbers = {i.id: i.number for i in s.exec(select(Invoice)).all()}
        memos = {m.id: m.number for m in s.exec(select(CreditMemo)).all()}
        got = sorted(
            (str(a.kind), memos.get(a.source_id, "cash"), numbers[a.invoice_id], a.amount_minor)
            for a in s.exec(select(Application)).all()
        )
    # before: CM-1 on INV-1, INV-1 60.00 cash, and INV-2's credit stored as 40.00 of cash
    assert got == [("credit_memo", "CM-1", "INV-2", 4000), ("payment", "cash", "INV-1", 10000)]
